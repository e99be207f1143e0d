/* Requests to the server: same-origin, with the CSRF token, answered in JSON. */

export function csrf(form) {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const field = form.elements.namedItem("csrf_token");
  return (meta && meta.content) || (field && field.value) || "";
}

export function post(form, url, body, headers) {
  return fetch(url, {
    method: "POST", body, credentials: "same-origin",
    headers: Object.assign({ "X-CSRFToken": csrf(form), Accept: "application/json" }, headers),
  });
}

// A session that ran out answers with the sign-in page instead of JSON.
export const signedOut = (response) => response.redirected && /\/login\b/.test(response.url);
