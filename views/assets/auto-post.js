// Submits the page's one form as soon as it is parsed (SAML HTTP-POST binding, saml-bindings
// §3.5.4). A static file, not an inline handler: the pages' CSP allows no inline script.
document.forms[0].submit()
