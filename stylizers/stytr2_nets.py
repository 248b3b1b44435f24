"""StyTr² (Deng et al., CVPR 2022) as torch modules whose names match diyiiyiii/StyTR-2, so that its released
``embedding_iter_160000.pth``, ``transformer_iter_160000.pth`` and ``decoder_iter_160000.pth`` load strictly.

- ``PatchEmbed`` (``embedding``): ``proj``, a ``d, 3, 8, 8`` conv with stride 8: image ``B, 3, H, W`` ->
  grid ``B, d, H/8, W/8`` (no normalisation: images in [0, 1] as the reference's ``ToTensor``).
- ``StyTr2Transformer`` (``transformer``): content encoder ``encoder_c``, style encoder ``encoder_s``, decoder
  ``decoder`` (+ ``decoder.norm``), and CAPE, the content-aware positional encoding: the content grid
  average-pooled to 18x18 (``averagepooling``), a 1x1 conv (``new_ps``), bilinearly resized back to the
  content grid and added to the content queries/keys. Post-norm layers (LayerNorm after each residual).
- ``decode``: the AdaIN decoder layout (3 nearest 2x upsamplings) on ``d`` channels -> RGB ``B, 3, H, W``.

The reference resizes CAPE to the *style* grid and reshapes the decoder output as ``B, d, N/√N, √N``, so it
only runs with square content of the same size as the style. Here CAPE is resized to the content grid (the
same thing when both grids are equal) and the output keeps the content grid ``h, w``; the style tokens are
memory only (no positional code, as in the reference), so style and content sizes are independent and a
padded style memory with a key-padding mask gives exactly the unpadded result.

Faithful detail: the reference decoder layer's first attention (named ``self_attn``) is not self-attention:
its queries are the content tokens + CAPE and its keys/values the style memory, like ``multihead_attn``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from stylizers.adain import official_decoder

PATCH = 8  # patch side = the CNN decoder's total upsampling (three 2x)


@dataclass(frozen=True)
class StyTr2Arch:
    """Sizes of a StyTr² network; the defaults are the released model's (``Transformer()`` in the reference)."""

    d_model: int = 512
    nhead: int = 8
    enc_layers: int = 3
    dec_layers: int = 3
    ffn: int = 2048
    pool: int = 18  # CAPE's average-pool side
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.d_model < 8 or self.nhead < 1 or self.d_model % self.nhead:
            raise ValueError(f"d_model={self.d_model}, nhead={self.nhead}: d_model must be >= 8 and a multiple of nhead")
        if min(self.enc_layers, self.dec_layers, self.ffn, self.pool) < 1 or not 0 <= self.dropout < 1:
            raise ValueError("enc_layers, dec_layers, ffn and pool must be >= 1 and dropout in [0, 1)")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "StyTr2Arch":
        return cls(**json.loads(text))


class PatchEmbed(nn.Module):
    """``B, 3, H, W`` -> ``B, d, H/8, W/8`` by a strided 8x8 conv (the reference's ``PatchEmbed.proj``)."""

    def __init__(self, d_model: int = 512) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, d_model, kernel_size=PATCH, stride=PATCH)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


def _with_pos(x: torch.Tensor, pos: torch.Tensor | None) -> torch.Tensor:
    return x if pos is None else x + pos


class EncoderLayer(nn.Module):
    """Post-norm self-attention block; ``pos`` is added to queries and keys only. Tokens ``B, N, d``."""

    def __init__(self, arch: StyTr2Arch) -> None:
        super().__init__()
        d = arch.d_model
        self.self_attn = nn.MultiheadAttention(d, arch.nhead, dropout=arch.dropout, batch_first=True)
        self.linear1, self.linear2 = nn.Linear(d, arch.ffn), nn.Linear(arch.ffn, d)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.dropout, self.dropout1, self.dropout2 = (nn.Dropout(arch.dropout) for _ in range(3))

    def forward(self, src: torch.Tensor, pos: torch.Tensor | None = None) -> torch.Tensor:
        q = k = _with_pos(src, pos)
        src = self.norm1(src + self.dropout1(self.self_attn(q, k, src, need_weights=False)[0]))
        return self.norm2(src + self.dropout2(self.linear2(self.dropout(F.relu(self.linear1(src))))))


class DecoderLayer(nn.Module):
    """Two attention blocks from content queries (+ CAPE) to the style memory, then the FFN; post-norm."""

    def __init__(self, arch: StyTr2Arch) -> None:
        super().__init__()
        d = arch.d_model
        self.self_attn = nn.MultiheadAttention(d, arch.nhead, dropout=arch.dropout, batch_first=True)
        self.multihead_attn = nn.MultiheadAttention(d, arch.nhead, dropout=arch.dropout, batch_first=True)
        self.linear1, self.linear2 = nn.Linear(d, arch.ffn), nn.Linear(arch.ffn, d)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.dropout, self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(arch.dropout) for _ in range(4))

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor, query_pos: torch.Tensor | None,
                memory_key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``tgt`` ``B, N, d`` content tokens, ``memory`` ``B, M, d`` style tokens, mask ``B, M`` (True = padding)."""
        kw = {"key_padding_mask": memory_key_padding_mask, "need_weights": False}
        tgt = self.norm1(tgt + self.dropout1(self.self_attn(_with_pos(tgt, query_pos), memory, memory, **kw)[0]))
        tgt = self.norm2(tgt + self.dropout2(self.multihead_attn(_with_pos(tgt, query_pos), memory, memory, **kw)[0]))
        return self.norm3(tgt + self.dropout3(self.linear2(self.dropout(F.relu(self.linear1(tgt))))))


class TransformerEncoder(nn.Module):
    def __init__(self, arch: StyTr2Arch) -> None:
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(arch) for _ in range(arch.enc_layers))

    def forward(self, src: torch.Tensor, pos: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            src = layer(src, pos)
        return src


class TransformerDecoder(nn.Module):
    def __init__(self, arch: StyTr2Arch) -> None:
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(arch) for _ in range(arch.dec_layers))
        self.norm = nn.LayerNorm(arch.d_model)

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor, query_pos: torch.Tensor | None,
                memory_key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            tgt = layer(tgt, memory, query_pos, memory_key_padding_mask)
        return self.norm(tgt)


def grid_to_tokens(grid: torch.Tensor) -> torch.Tensor:
    """``B, d, h, w`` -> ``B, h*w, d`` (row-major)."""
    return grid.flatten(2).transpose(1, 2)


class StyTr2Transformer(nn.Module):
    """The reference's ``Transformer``: two encoders, a decoder and CAPE (``new_ps`` + ``averagepooling``)."""

    def __init__(self, arch: StyTr2Arch = StyTr2Arch()) -> None:
        super().__init__()
        self.arch = arch
        self.encoder_c = TransformerEncoder(arch)
        self.encoder_s = TransformerEncoder(arch)
        self.decoder = TransformerDecoder(arch)
        self.new_ps = nn.Conv2d(arch.d_model, arch.d_model, (1, 1))
        self.averagepooling = nn.AdaptiveAvgPool2d(arch.pool)
        for p in self.parameters():  # the reference's _reset_parameters
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def cape(self, content: torch.Tensor) -> torch.Tensor:
        """Content-aware positional encoding: grid ``B, d, h, w`` -> ``B, d, h, w``."""
        pos = self.new_ps(self.averagepooling(content))
        return F.interpolate(pos, size=content.shape[-2:], mode="bilinear")

    def encode_style(self, style: torch.Tensor) -> torch.Tensor:
        """Style grid ``B, d, hs, ws`` -> style memory ``B, hs*ws, d`` (no positional code)."""
        return self.encoder_s(grid_to_tokens(style))

    def decode_tokens(self, content: torch.Tensor, memory: torch.Tensor,
                      memory_key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Content grid ``B, d, h, w`` + style memory ``B, M, d`` (mask ``B, M``, True = padding) -> ``B, d, h, w``."""
        b, d, h, w = content.shape
        pos = grid_to_tokens(self.cape(content))
        tokens = self.encoder_c(grid_to_tokens(content), pos)
        out = self.decoder(tokens, memory, pos, memory_key_padding_mask)
        return out.transpose(1, 2).reshape(b, d, h, w)

    def forward(self, style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
        """Style grid ``B, d, hs, ws`` and content grid ``B, d, h, w`` -> stylized grid ``B, d, h, w``."""
        return self.decode_tokens(content, self.encode_style(style))


class StyTr2(nn.Module):
    """Patch embedding + transformer + CNN decoder, named like the reference's ``StyTrans`` (``embedding``,
    ``transformer``, ``decode``); ``forward`` returns the stylized image (the reference returns its losses)."""

    def __init__(self, arch: StyTr2Arch = StyTr2Arch()) -> None:
        super().__init__()
        self.arch = arch
        self.embedding = PatchEmbed(arch.d_model)
        self.transformer = StyTr2Transformer(arch)
        self.decode = official_decoder(arch.d_model)

    @staticmethod
    def check_size(images: torch.Tensor, what: str) -> None:
        if images.ndim != 4 or images.shape[1] != 3 or images.shape[2] % PATCH or images.shape[3] % PATCH:
            raise ValueError(f"{what} must be B, 3, H, W with H and W multiples of {PATCH}; got {tuple(images.shape)} "
                             "(the Stylizer runner pads; pad or resize when calling the network directly)")

    def style_memory(self, style: torch.Tensor) -> torch.Tensor:
        """Style images ``B, 3, Hs, Ws`` in [0, 1] -> memory tokens ``B, Hs*Ws/64, d``."""
        self.check_size(style, "style")
        return self.transformer.encode_style(self.embedding(style))

    def stylize_with_memory(self, content: torch.Tensor, memory: torch.Tensor,
                            memory_key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Content ``B, 3, H, W`` in [0, 1] + memory ``B, M, d`` -> ``B, 3, H, W`` (unclamped)."""
        self.check_size(content, "content")
        return self.decode(self.transformer.decode_tokens(self.embedding(content), memory, memory_key_padding_mask))

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Content ``B, 3, H, W`` and style ``B, 3, Hs, Ws`` (any sizes, multiples of 8) -> ``B, 3, H, W``."""
        return self.stylize_with_memory(content, self.style_memory(style))
