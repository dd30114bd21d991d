//! Every operation of the Kubernetes API and the HTTP client (being built: see the issues).
