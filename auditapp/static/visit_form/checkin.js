/* Check-in (templates/visit_form/_start.html): with the consent box ticked, the
   phone's position goes with it; without a position in 10 s it goes without. Loaded
   by the visit's page on its own and imported by the visit form. */

const checkIn = document.getElementById("start-form");
if (checkIn && navigator.geolocation) {
  checkIn.addEventListener("submit", (event) => {
    const consent = checkIn.elements.namedItem("consent");
    if (!consent || !consent.checked || checkIn.dataset.located) return;
    event.preventDefault();
    const send = () => { checkIn.dataset.located = "true"; checkIn.submit(); };
    navigator.geolocation.getCurrentPosition((position) => {
      const c = position.coords;
      checkIn.elements.namedItem("latitude").value = c.latitude.toFixed(6);
      checkIn.elements.namedItem("longitude").value = c.longitude.toFixed(6);
      checkIn.elements.namedItem("accuracy").value = String(Math.round(c.accuracy));
      send();
    }, send, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });
}
