(function () {
  function key(td) { var v = td.getAttribute('data-v');
    return v === null ? td.textContent.trim() : parseFloat(v); }
  document.querySelectorAll('table.sortable').forEach(function (t) {
    t.querySelectorAll('th[data-col]').forEach(function (th) {
      th.addEventListener('click', function () {
        var c = +th.getAttribute('data-col'), up = th.getAttribute('data-up') !== '1';
        th.setAttribute('data-up', up ? '1' : '0');
        var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows)
          .filter(function (r) { return !r.classList.contains('total'); });
        rows.sort(function (a, b) { var x = key(a.cells[c]), y = key(b.cells[c]);
          var r = (typeof x === 'number' && typeof y === 'number') ? x - y
            : String(x).localeCompare(String(y));
          return up ? r : -r; });
        rows.forEach(function (r) { body.insertBefore(r, body.querySelector('tr.total')); });
      });
    });
  });
  var box = document.getElementById('cal-filter');
  if (box) box.addEventListener('input', function () {
    var q = box.value.trim().toLowerCase(), grp = null, shown = 0;
    function close() { if (grp) grp.style.display = shown ? '' : 'none'; }
    document.querySelectorAll('table.cal tbody tr').forEach(function (r) {
      if (r.classList.contains('grp')) { close(); grp = r; shown = 0; return; }
      var hit = !q || (r.getAttribute('data-find') || '').indexOf(q) >= 0;
      r.style.display = hit ? '' : 'none'; if (hit) shown++;
    });
    close();
  });
})();
