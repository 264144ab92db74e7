// One geolocation fix, in the payload shape of the sync contract:
//   geo = {lat, lon, accuracy, at} | null (WGS-84, as the browser gives it)
//   geo_error = null | 'denied' | 'unavailable' | 'timeout' | 'unsupported'
// No DOM. A failure never blocks saving: the record carries geo_error instead.

/** @typedef {{lat: number, lon: number, accuracy: number, at: string}} GeoFix */
/** @typedef {null|'denied'|'unavailable'|'timeout'|'unsupported'} GeoError */

/**
 * @param {Object} [opts]
 * @param {Geolocation|null} [opts.geolocation] defaults to navigator.geolocation
 * @param {number} [opts.timeout]    ms
 * @param {number} [opts.maximumAge] ms
 * @param {boolean} [opts.secure]    window.isSecureContext (geolocation needs HTTPS or localhost)
 * @returns {Promise<{geo: GeoFix|null, geo_error: GeoError}>}
 */
export function getFix(opts = {}) {
  const nav = globalThis.navigator;
  const geolocation = opts.geolocation !== undefined ? opts.geolocation : nav && nav.geolocation;
  const secure = opts.secure !== undefined ? opts.secure : globalThis.isSecureContext !== false;
  if (!geolocation || !secure) return Promise.resolve({ geo: null, geo_error: 'unsupported' });
  return new Promise((resolve) => {
    let done = false;
    const finish = (v) => { if (!done) { done = true; clearTimeout(guard); resolve(v); } };
    const timeout = opts.timeout ?? 20000;
    // Some WebViews never call back at all: keep our own guard.
    const guard = setTimeout(() => finish({ geo: null, geo_error: 'timeout' }), timeout + 2000);
    try {
      geolocation.getCurrentPosition(
        (pos) => finish({
          geo: {
            lat: pos.coords.latitude,
            lon: pos.coords.longitude,
            accuracy: Math.round(pos.coords.accuracy * 10) / 10,
            at: new Date(pos.timestamp || Date.now()).toISOString(),
          },
          geo_error: null,
        }),
        (err) => finish({ geo: null, geo_error: err && err.code === 1 ? 'denied' : err && err.code === 3 ? 'timeout' : 'unavailable' }),
        { enableHighAccuracy: true, timeout, maximumAge: opts.maximumAge ?? 0 },
      );
    } catch {
      finish({ geo: null, geo_error: 'unsupported' });
    }
  });
}
