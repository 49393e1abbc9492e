//! The workflow of a playbook as a petgraph graph, its analyses, and its drawings.

pub mod analysis;
pub mod graph;
pub mod render;

pub use analysis::Analysis;
pub use graph::{EdgeKind, StepEdge, StepKind, StepNode, WorkflowGraph};
