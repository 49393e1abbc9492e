//! cacao-forge: turns security incidents into validated OASIS CACAO v2.0 playbooks and runs them.
//!
//! The crate reads top-down as the pipeline does; see ARCHITECTURE.md for the map. Every stage is
//! usable on its own: [`cacao`] (model, identifiers, schema and semantic validation), [`workflow`]
//! (petgraph graph, analyses, drawings) and [`score`] (node/edge recall against a reference);
//! [`plan`] turns an incident into an ordered mitigation plan (ATT&CK mitigations and response
//! actions per mapped technique, phase by phase).

pub mod attack;
pub mod cacao;
pub mod execute;
pub mod finding;
pub mod generate;
pub mod incident;
pub mod plan;
pub mod score;
pub mod threat;
pub mod workflow;

pub use finding::{Finding, Severity};
