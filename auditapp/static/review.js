// The review queue: a "select all" box for the clean visits (flagged rows have no
// box, so they can never be ticked). Without JavaScript each row is ticked by hand.
const all = document.getElementById("select-all");
const boxes = all ? [...document.querySelectorAll("#queue input.rv-tick")] : [];
if (boxes.length) {
  all.hidden = false;
  const sync = () => {
    const ticked = boxes.filter((b) => b.checked).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  };
  all.addEventListener("change", () => {
    boxes.forEach((b) => { b.checked = all.checked; });
  });
  boxes.forEach((b) => b.addEventListener("change", sync));
  sync();
}
