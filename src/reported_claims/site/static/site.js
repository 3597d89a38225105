// Filters and search over the claim index embedded in the page; without this script every claim stays listed.
(function () {
  var form = document.getElementById("filters");
  var index = JSON.parse(document.getElementById("claim-index").textContent);
  var count = document.getElementById("count");
  function update() {
    var q = form.q.value.trim().toLowerCase(), shown = 0;
    index.forEach(function (c) {
      var ok = (!q || c.text.indexOf(q) >= 0) && (!form.topic.value || c.topic === form.topic.value) &&
        (!form.item.value || c.items.indexOf(form.item.value) >= 0) &&
        (!form.entity.value || c.entities.indexOf(form.entity.value) >= 0) &&
        (!form.status.value || c.status === form.status.value);
      document.getElementById(c.id).hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + " of " + index.length + " claims";
  }
  // index.html?q=chips&topic=dual-use-trade opens the index filtered: such a link can be shared.
  new URLSearchParams(window.location.search).forEach(function (value, name) {
    if (form.elements[name]) form.elements[name].value = value;
  });
  form.hidden = false;
  form.addEventListener("input", update);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  update();
})();
