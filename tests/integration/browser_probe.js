// Injected into a copy of report.html by tests/integration/browser.rs: records console errors
// and failed loads, then on load writes image, SVG, table and page sizes as JSON into the DOM.
(function () {
  var errors = [];
  var origError = console.error;
  console.error = function () {
    errors.push(Array.prototype.map.call(arguments, String).join(' '));
    return origError.apply(console, arguments);
  };
  window.addEventListener('error', function (ev) {
    var t = ev.target;
    if (t && t !== window && (t.src || t.href)) {
      errors.push('failed to load ' + (t.src || t.href));
    } else {
      errors.push('uncaught: ' + (ev.message || ev));
    }
  }, true);
  window.addEventListener('load', function () {
    var r = { errors: errors, images: [], svgs: [], tables: [], page: {} };
    document.querySelectorAll('img').forEach(function (im) {
      var b = im.getBoundingClientRect();
      r.images.push({ src: im.getAttribute('src') || '', ok: im.complete && im.naturalWidth > 0 && b.width > 0 && b.height > 0 });
    });
    document.querySelectorAll('svg').forEach(function (s) {
      if (s.parentElement && s.parentElement.closest('svg')) return;
      var b = s.getBoundingClientRect();
      r.svgs.push({ width: b.width, height: b.height, children: s.childElementCount });
    });
    document.querySelectorAll('table').forEach(function (t, i) {
      var c = t.parentElement;
      r.tables.push({ index: i, scroll: t.scrollWidth, width: t.getBoundingClientRect().width,
        container_scroll: c.scrollWidth, container_client: c.clientWidth });
    });
    r.page = { scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth };
    var pre = document.createElement('pre');
    pre.id = 'affsim-browser-check';
    pre.textContent = JSON.stringify(r);
    document.body.appendChild(pre);
  });
})();
