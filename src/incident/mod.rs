//! Incidents: the `Incident` type, intake readers for text, logs, alerts and the seed-004 format,
//! and observable extraction. (Issue 3, in progress.)
