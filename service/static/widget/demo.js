// Shows the embedding snippet with this service's own address.
document.addEventListener("DOMContentLoaded", () => {
  const snippet = document.getElementById("snippet");
  snippet.textContent = `<script src="${location.origin}/widget.js" data-hotline="12345" defer></script>`;
});
