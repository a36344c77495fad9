// Starts Swagger UI on this server's own document (a file, not an inline script: the page's CSP
// allows scripts from this origin only).
window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#api', deepLinking: true });
