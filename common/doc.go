// Module common holds the code every gpumon binary shares and that belongs to
// none of them: the documented JSON codec (wirejson), flags with environment
// fallbacks (flagenv), TLS client setup (tlsclient), the metadata keys of the
// hub's API (apimeta), secrets hidden in command lines (redact), the
// Prometheus series a report maps to (metricset) and their export to
// client_golang registries (exposition), a report's process list cut to a
// hub's caps (proclimit), and test helpers: JSON (jsontest),
// a checker of answers against the OpenAPI document (openapitest),
// certificates (testcert), Debian packages (testdeb) and the binaries run as
// processes (testproc). It depends on the
// generated API in gen/ and, for exposition, on Prometheus's client_golang.
package common
