//! ATT&CK: the embedded knowledge base (mitre/), STIX bundle import and sync, technique mapping and
//! mitigation planning. (Issue 3, in progress.)
