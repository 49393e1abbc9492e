//! Drawings of a workflow graph for reviewers: SVG (laid out and rendered in Rust), Mermaid and DOT.
