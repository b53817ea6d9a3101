// JavaScript bodies of the director map's layers (canvass.maps). Each section,
// started by a `// == name ==` line, is the body of `function(data) {...}` and
// returns the Leaflet layer built from `data`, the layer's JSON literal.

// == choropleth ==
return L.geoJSON(data, {
  style: function(f) { return {fillColor: f.properties.fill, color: '#555', weight: 1,
    fillOpacity: 0.45, className: 'precinct-area'}; },
  onEachFeature: function(f, l) { l.bindTooltip(f.properties.tip, {sticky: true}); }
});

// == turfs ==
return L.geoJSON(data, {
  style: function(f) { return {color: '#333', weight: 2, dashArray: '4 3',
    fill: true, fillOpacity: 0.03, className: 'turf-area'}; },
  onEachFeature: function(f, l) { l.bindPopup(f.properties.tip); }
});

// == labels ==
var g = L.layerGroup();
g.on('add', function() { cvFar(g._map); });
data.forEach(function(r) {
  L.marker([r[0], r[1]], {interactive: false, keyboard: false, icon: L.divIcon({
    className: 'turf-label', iconSize: null, html: '<div>' + r[2] + '</div>'})})
    .addTo(g);
});
return g;

// == routes ==
var g = L.featureGroup();
g.on('add', function() { cvFar(g._map); });
L.geoJSON(data, {
  style: function(f) { return {color: f.properties.colour, weight: 4, opacity: 0.85,
    className: 'route-line'}; },
  onEachFeature: function(f, l) { l.bindTooltip(f.properties.tip, {sticky: true}); }
}).addTo(g);
data.features.forEach(function(f) {
  L.circleMarker(f.properties.start, {radius: 6, color: '#fff', weight: 2,
    fillColor: '#2b8a3e', fillOpacity: 1, className: 'route-start'})
    .bindTooltip('Start of route ' + f.properties.route_id).addTo(g);
});
return g;

// == doors ==
var ent = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};
var esc = function(t) {
  return String(t).replace(/[&<>"']/g, function(c) { return ent[c]; }); };
var g = L.markerClusterGroup({disableClusteringAtZoom: 18, maxClusterRadius: 50});
var icon = L.divIcon({className: 'door-dot', iconSize: [12, 12]});
g.addLayers(data.rows.map(function(r) {
  var rt = data.routes[r[3]];
  return L.marker([r[0], r[1]], {icon: icon}).bindPopup(function() {
    return '<b>' + esc(r[2]) + '</b><br>Route ' + esc(rt[0]) + ', ' +
      (data.redact ? 'block ' : 'stop ') + r[4] + ' · turf ' + esc(rt[1]) + '<br>' +
      (data.redact ? r[6] + ' doors, ' + r[5] + ' targets'
                   : r[5] + ' target(s) of ' + r[6] + ' voter(s)');
  });
}));
return g;

// == left ==
var g = L.layerGroup();
var icon = L.divIcon({className: 'left-out-dot', iconSize: [10, 10]});
data.forEach(function(r) {
  L.marker([r[0], r[1]], {icon: icon}).bindPopup(r[2]).addTo(g);
});
return g;
