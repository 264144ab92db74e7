// #/find/<token>: the house finder. For the households the evaluator must find (samples
// and activated reserves, whose home and phone came with the tasks), it shows the
// distance and direction from the phone's position, a north-up sketch map (SVG, drawn
// offline: no tiles, no network) and the phone number as a tap-to-call link. Opening it
// does not start the visit (the visit's clock starts on #/visit/<token>).

import { html, setHTML, qs } from '../dom.js';
import { t } from '../i18n.js';
import { canVisit } from '../sampling.js';
import { findHousehold } from '../taskdata.js';
import { distanceM, bearingDeg, compassPoint, roundDistance, project, scaleBar } from '../compass.js';
import { backLink, householdMeta } from './common.js';

const MAP_PX = 260;
const HERE_M = 30; // closer than this: "right here"
const WATCH_OPTIONS = { enableHighAccuracy: true, maximumAge: 5000, timeout: 20000 };

/** @param {{home?: {lat: number, lon: number}|null}} h */
const homeOf = (h) => (h && h.home && typeof h.home.lat === 'number' ? h.home : null);

/**
 * Links shown on the household card of the visit screen: call, and find.
 * @param {Object} h a task household
 * @returns {import('../dom.js').SafeHTML}
 */
export function finderLinks(h) {
  return html`<p class="finder-links">
    ${h.phone ? html`<a class="btn btn-small btn-secondary" href="tel:${h.phone}" data-testid="call-link">${t('finder.call', { phone: h.phone })}</a>` : ''}
    ${'home' in h ? html`<a class="btn btn-small btn-secondary" href="#/find/${encodeURIComponent(h.token)}" data-testid="finder-link">${t('finder.open')}</a>` : ''}
  </p>`;
}

/**
 * Where to go and how far, in words: `{text, distance, direction}` or null without a fix.
 * @param {{lat: number, lon: number}|null} me
 * @param {{lat: number, lon: number}} target
 * @returns {{distance: string, direction: string, metres: number}|null}
 */
export function directions(me, target) {
  if (!me || !target) return null;
  const metres = distanceM(me, target);
  if (metres < HERE_M) return { distance: t('finder.here', { n: HERE_M }), direction: '', metres };
  const d = roundDistance(metres);
  return {
    distance: t(d.unit === 'm' ? 'finder.distance_m' : 'finder.distance_km', { n: d.n }),
    direction: t('finder.direction', { dir: t(`dir.${compassPoint(bearingDeg(me, target))}`) }),
    metres,
  };
}

/**
 * The north-up sketch: other sampled homes (grey), the village centre (square), the
 * target (red), the phone (blue, with its accuracy circle), a scale bar and N.
 * @param {{lat: number, lon: number}} target
 * @param {Array<{lat: number, lon: number}>} others
 * @param {{lat: number, lon: number, accuracy?: number}|null} me
 * @param {{lat: number, lon: number}|null} centre
 * @returns {import('../dom.js').SafeHTML}
 */
export function sketch(target, others, me, centre) {
  const pts = [target, ...(me ? [me] : []), ...(centre ? [centre] : []), ...others];
  const { xy, metresPerPx } = project(pts, MAP_PX, { pad: 18, minSpanM: 150 });
  const at = (i) => xy[i];
  const t0 = at(0);
  const meXY = me ? at(1) : null;
  const centreXY = centre ? at(me ? 2 : 1) : null;
  const othersXY = xy.slice(1 + (me ? 1 : 0) + (centre ? 1 : 0));
  const bar = scaleBar(metresPerPx, 80);
  const acc = me && me.accuracy ? Math.min(me.accuracy / metresPerPx, MAP_PX) : 0;
  const f = (v) => v.toFixed(1);
  return html`<svg class="finder-map" data-testid="finder-map" viewBox="0 0 ${MAP_PX} ${MAP_PX}" role="img" aria-label="${t('finder.map_label')}">
    <rect x="0" y="0" width="${MAP_PX}" height="${MAP_PX}" fill="#f4f6f8" stroke="#c5cbd3"></rect>
    ${othersXY.map((p) => html`<circle cx="${f(p.x)}" cy="${f(p.y)}" r="3" fill="#9aa3ad"></circle>`)}
    ${centreXY ? html`<rect x="${f(centreXY.x - 5)}" y="${f(centreXY.y - 5)}" width="10" height="10" fill="none" stroke="#6a1b9a" stroke-width="2" data-testid="finder-centre"></rect>` : ''}
    <circle cx="${f(t0.x)}" cy="${f(t0.y)}" r="8" fill="#b3261e" stroke="#fff" stroke-width="2" data-testid="finder-target"></circle>
    ${meXY ? html`${acc > 6 ? html`<circle cx="${f(meXY.x)}" cy="${f(meXY.y)}" r="${f(acc)}" fill="#1565c0" fill-opacity="0.12"></circle>` : ''}
      <line x1="${f(meXY.x)}" y1="${f(meXY.y)}" x2="${f(t0.x)}" y2="${f(t0.y)}" stroke="#1565c0" stroke-width="2" stroke-dasharray="5 4"></line>
      <circle cx="${f(meXY.x)}" cy="${f(meXY.y)}" r="7" fill="#1565c0" stroke="#fff" stroke-width="2" data-testid="finder-me"></circle>` : ''}
    <text x="${MAP_PX - 16}" y="22" text-anchor="middle" font-size="14" font-weight="700" fill="#1a1a1a">${t('finder.north')}</text>
    <path d="M ${MAP_PX - 16} 26 l -5 12 l 5 -3 l 5 3 z" fill="#1a1a1a"></path>
    <line x1="12" y1="${MAP_PX - 14}" x2="${f(12 + bar.px)}" y2="${MAP_PX - 14}" stroke="#1a1a1a" stroke-width="3"></line>
    <text x="12" y="${MAP_PX - 20}" font-size="12" fill="#1a1a1a" data-testid="finder-scale">${t('finder.scale', { n: bar.metres })}</text>
  </svg>`;
}

/**
 * @param {HTMLElement} root
 * @param {Object} ctx
 * @param {import('../router.js').Route} route
 * @returns {Promise<(() => void)|undefined>}
 */
export async function render(root, ctx, route) {
  ctx.setTitle(t('finder.title'));
  const found = await findHousehold(ctx.deps, route.params.token);
  if (!found) {
    setHTML(root, html`${backLink('#/tasks', t('tasks.title'))}
      <p class="empty" data-testid="finder-missing">${t('village.missing')}</p>`);
    return undefined;
  }
  const { village, household: h } = found;
  const home = homeOf(h);
  const centre = village.centre && typeof village.centre.lat === 'number' ? village.centre : null;
  const target = home || centre;
  const others = village.households.filter((o) => o.token !== h.token).map(homeOf).filter(Boolean);
  setHTML(root, html`
    ${backLink(`#/village/${encodeURIComponent(village.code)}`, village.name)}
    <section class="card household-card" data-testid="finder-card">
      <p class="row-sub">${village.name} · ${t(h.role === 'reserve' ? 'village.reserve_no' : 'village.sample_no', { rank: h.rank })}</p>
      <h1 class="page-title">${t('village.head', { name: h.head_name })}</h1>
      <p class="row-sub">${householdMeta(h)}</p>
      ${h.phone ? html`<a class="btn btn-primary btn-block" href="tel:${h.phone}" data-testid="call-link">${t('finder.call', { phone: h.phone })}</a>`
        : html`<p class="muted small" data-testid="no-phone">${t('finder.no_phone')}</p>`}
    </section>
    <section class="card finder" data-testid="finder">
      ${!home ? html`<p class="notice" data-testid="finder-no-home">${t(centre ? 'finder.to_centre' : 'finder.no_home')}</p>` : ''}
      ${target ? html`
        <p class="finder-distance" data-testid="finder-distance">${t('finder.locating')}</p>
        <p class="finder-direction" data-testid="finder-direction"></p>
        <div id="finder-sketch">${sketch(target, others, null, home ? centre : null)}</div>
        <p class="muted small" data-testid="finder-accuracy" id="finder-accuracy"></p>
        <p class="muted small">${t('finder.map_hint')} ${t('finder.offline_ok')}</p>` : ''}
    </section>
    ${canVisit(h) ? html`<a class="btn btn-primary btn-block" href="#/visit/${encodeURIComponent(h.token)}" data-testid="finder-start-visit">${t('finder.start_visit')}</a>` : ''}
  `);
  if (!target) return undefined;

  const distanceEl = qs('[data-testid="finder-distance"]', root);
  const directionEl = qs('[data-testid="finder-direction"]', root);
  const accuracyEl = qs('#finder-accuracy', root);
  const sketchEl = qs('#finder-sketch', root);
  const show = (me) => {
    const d = directions(me, target);
    distanceEl.textContent = d ? d.distance : t('finder.locating');
    distanceEl.dataset.metres = d ? String(Math.round(d.metres)) : '';
    directionEl.textContent = d ? d.direction : '';
    accuracyEl.textContent = me && me.accuracy ? t('finder.accuracy', { m: Math.round(me.accuracy) }) : '';
    setHTML(sketchEl, sketch(target, others, me, home ? centre : null));
  };
  const geo = globalThis.navigator && navigator.geolocation;
  if (!geo || globalThis.isSecureContext === false) {
    distanceEl.textContent = t('finder.no_fix');
    return undefined;
  }
  const id = geo.watchPosition(
    (pos) => { if (root.isConnected) show({ lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: pos.coords.accuracy }); },
    (err) => {
      if (!root.isConnected) return;
      distanceEl.textContent = t(err && err.code === 1 ? 'finder.no_permission' : 'finder.no_fix');
    },
    WATCH_OPTIONS,
  );
  return () => geo.clearWatch(id);
}
