// The village centre map page: a draggable centre marker and its check-in circle over the
// households, kept in step with the form's inputs. Leaflet draws without tiles (points on
// a plain background) unless MAP_TILE_URL is set. No inline JS (CSP).
(function () {
  'use strict';
  const el = document.getElementById('centre-map');
  const dataEl = document.getElementById('centre-map-data');
  if (!el || !dataEl || typeof window.L === 'undefined') return;
  const L = window.L;
  const data = JSON.parse(dataEl.textContent || '{}');
  const lat = document.getElementById('centre-lat');
  const lon = document.getElementById('centre-lon');
  const radius = document.getElementById('centre-radius');
  const system = document.getElementById('centre-system');
  const map = L.map(el, { attributionControl: !!el.dataset.tileUrl });
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);

  const bounds = [];
  (data.households || []).forEach((p) => {
    L.circleMarker(p, { radius: 4, color: '#1565c0', weight: 1, fillOpacity: 0.8, interactive: false }).addTo(map);
    bounds.push(p);
  });
  if (data.estimate) {
    L.circleMarker(data.estimate, { radius: 7, color: '#6a1b9a', weight: 2, dashArray: '3', fillOpacity: 0 })
      .bindTooltip(el.dataset.labelEstimate).addTo(map);
  }
  const start = data.centre || data.estimate || data.fallback || [34.36, 107.24];
  const marker = L.marker(start, { draggable: true, title: el.dataset.labelCentre, keyboard: true }).addTo(map);
  // Only the marker takes the mouse: a click anywhere else on the map places the centre.
  const circle = L.circle(start, {
    radius: Number(radius.value) || 1000, color: '#b3261e', weight: 1, fillOpacity: 0.05, interactive: false,
  }).addTo(map);
  if (data.centre) bounds.push(data.centre);
  if (bounds.length > 1) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 });
  else map.setView(start, data.centre || data.estimate ? 15 : 11);

  const fmt = (v) => (Math.round(v * 1e7) / 1e7).toFixed(7);
  // The map is WGS-84: a point picked on it is WGS-84 whatever the select said before.
  const place = (ll) => {
    marker.setLatLng(ll);
    circle.setLatLng(ll);
    lat.value = fmt(ll.lat);
    lon.value = fmt(ll.lng);
    system.value = 'WGS84';
  };
  marker.on('dragend', () => place(marker.getLatLng()));
  map.on('click', (e) => place(e.latlng));
  const fromInputs = () => {
    const a = Number(lat.value), b = Number(lon.value);
    if (lat.value !== '' && lon.value !== '' && Number.isFinite(a) && Number.isFinite(b) && system.value === 'WGS84') {
      marker.setLatLng([a, b]);
      circle.setLatLng([a, b]);
    }
  };
  lat.addEventListener('change', fromInputs);
  lon.addEventListener('change', fromInputs);
  radius.addEventListener('input', () => { const r = Number(radius.value); if (r > 0) circle.setRadius(r); });
  const useEstimate = document.getElementById('use-estimate');
  if (useEstimate && data.estimate) {
    useEstimate.addEventListener('click', () => { place(L.latLng(data.estimate[0], data.estimate[1])); map.panTo(data.estimate); });
  }
})();
