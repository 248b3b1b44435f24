// Render Open Peeps figures from the npm package `react-peeps` to plain SVG files, without React.
// The package's components only call React.createElement and useMemo, so a 20-line stand-in that turns
// elements into SVG text is enough. Usage: node peeps_to_svg.js <react-peeps package dir> <out dir> <specs.json>
// specs.json: [{"id": "...", "body": "WalkingBW", "hair": "Short", "face": "Calm", "facialHair": null, "accessory": null}]
// Optional per spec: "viewBox": {"x", "y", "width", "height"} in the package's units (default below; the Bike
// pose reaches past its right edge). The SVG's size is half the viewBox's (950 x 1600 px by default).
const fs = require('fs');
const path = require('path');
const Module = require('module');

const camel = (k) => (k === 'viewBox' || k === 'gradientTransform' || k === 'stopColor' ? (k === 'stopColor' ? 'stop-color' : k) : k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()));
const esc = (v) => String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
function createElement(type, props, ...children) {
  props = props || {};
  if (typeof type === 'function') return type({ ...props, children });
  const flat = children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false && c !== true);
  const attrs = Object.entries(props)
    .filter(([k, v]) => k !== 'children' && k !== 'style' && v !== undefined && v !== null)
    .map(([k, v]) => ` ${k === 'className' ? 'class' : camel(k)}="${esc(v)}"`).join('');
  return `<${type}${attrs}>${flat.join('')}</${type}>`;
}
const fakeReact = { createElement, useMemo: (fn) => fn(), Fragment: 'g' };
fakeReact.default = fakeReact;
fakeReact.__esModule = true;
const origResolve = Module._resolveFilename;
Module._resolveFilename = function (req, ...rest) {
  if (req === 'react') return 'react-standin';
  return origResolve.call(this, req, ...rest);
};
require.cache['react-standin'] = { id: 'react-standin', filename: 'react-standin', loaded: true, exports: fakeReact };

const [pkgDir, outDir, specsPath] = process.argv.slice(2);
const Peep = require(path.resolve(pkgDir, 'lib/peeps/index.js')).default;
const specs = JSON.parse(fs.readFileSync(specsPath, 'utf8'));
const DEFAULT_VIEWBOX = { x: -400, y: -100, width: 1900, height: 3200 };
fs.mkdirSync(outDir, { recursive: true });
for (const s of specs) {
  const svg = Peep({
    body: s.body, hair: s.hair, face: s.face, facialHair: s.facialHair || undefined,
    accessory: s.accessory || undefined, strokeColor: '#000000', backgroundColor: '#ffffff',
    viewBox: s.viewBox || DEFAULT_VIEWBOX,
  });
  const vb = s.viewBox || DEFAULT_VIEWBOX;
  const doc = svg.replace('<svg', `<svg xmlns="http://www.w3.org/2000/svg" width="${vb.width / 2}" height="${vb.height / 2}"`);
  fs.writeFileSync(path.join(outDir, s.id + '.svg'), doc);
}
console.log(`wrote ${specs.length} svg files to ${outDir}`);
