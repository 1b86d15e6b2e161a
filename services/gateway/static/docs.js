// Starts Swagger UI on the API docs page. A file of its own, not an inline script, so that the
// page keeps a Content-Security-Policy without 'unsafe-inline' for scripts.
window.addEventListener("load", function () {
  var element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // the default sends the document to an outside validator
  });
});
