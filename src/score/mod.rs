//! Scoring a candidate playbook against a reference: node and edge recall/precision.
