//! Drawings of a workflow graph for reviewers: SVG (laid out and rendered in Rust), Mermaid and DOT.
//!
//! ```
//! use cacao_forge::workflow::{render, Analysis, WorkflowGraph};
//! let doc = render::sample::synthetic_playbook(20);
//! let g = WorkflowGraph::from_document(&doc);
//! let a = Analysis::of(&g);
//! let svg = render::render(&g, &a, render::Format::Svg);
//! assert!(svg.starts_with("<svg"));
//! ```

pub mod dot;
pub mod layout;
pub mod mermaid;
pub mod sample;
pub mod svg;

use super::analysis::Analysis;
use super::graph::WorkflowGraph;
use std::fmt;
use std::str::FromStr;

pub use dot::to_dot;
pub use mermaid::to_mermaid;
pub use svg::to_svg;

/// The drawing formats, named as on the command line (`svg`, `mermaid`, `dot`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// A standalone SVG picture, laid out by cacao-forge.
    Svg,
    /// A Mermaid `flowchart TD`.
    Mermaid,
    /// A Graphviz `digraph`.
    Dot,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Svg, Format::Mermaid, Format::Dot];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Mermaid => "mermaid",
            Format::Dot => "dot",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Mermaid => "mmd",
            Format::Dot => "dot",
        }
    }

    /// The media type to serve the drawing with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Svg => "image/svg+xml",
            Format::Mermaid => "text/vnd.mermaid; charset=utf-8",
            Format::Dot => "text/vnd.graphviz; charset=utf-8",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of [`Format::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown drawing format `{0}` (expected svg, mermaid or dot)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "svg" => Ok(Format::Svg),
            "mermaid" | "mmd" => Ok(Format::Mermaid),
            "dot" | "graphviz" | "gv" => Ok(Format::Dot),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// Draws `graph` in `format`. `analysis` must be [`Analysis::of`] the same graph (it gives the
/// layers, loop-backs and reachability).
pub fn render(graph: &WorkflowGraph, analysis: &Analysis, format: Format) -> String {
    match format {
        Format::Svg => to_svg(graph, analysis),
        Format::Mermaid => to_mermaid(graph, analysis),
        Format::Dot => to_dot(graph, analysis),
    }
}

/// One line of display text: control characters and runs of whitespace become single spaces.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// A CACAO id shortened for display: `playbook--aa1898b6-5251-…` becomes `playbook--aa1898b6…`.
pub(crate) fn short_id(id: &str) -> String {
    match id.rfind("--") {
        Some(i) if id.len() > i + 2 + 8 => {
            let rest = &id[i + 2..];
            let cut = rest.char_indices().nth(8).map_or(rest.len(), |(j, _)| j);
            format!("{}--{}…", &id[..i], &rest[..cut])
        }
        _ => id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>().unwrap(), f);
            assert_eq!(f.to_string(), f.as_str());
            use clap::ValueEnum;
            assert_eq!(f.to_possible_value().unwrap().get_name(), f.as_str());
        }
        assert_eq!("MMD".parse::<Format>().unwrap(), Format::Mermaid);
        assert!("png".parse::<Format>().is_err());
    }

    #[test]
    fn text_helpers() {
        assert_eq!(one_line("  a\n\tb \u{0}c  "), "a b c");
        assert_eq!(truncate_chars("abcdef", 4), "abc…");
        assert_eq!(truncate_chars("abc", 4), "abc");
        assert_eq!(short_id("playbook--aa1898b6-5251-49b4-aeb7-fd5e912583ff"), "playbook--aa1898b6…");
        assert_eq!(short_id("s"), "s");
        assert_eq!(short_id("x--é"), "x--é");
    }

    #[test]
    fn every_format_renders_an_empty_graph() {
        let g = WorkflowGraph::default();
        let a = Analysis::of(&g);
        for f in Format::ALL {
            assert!(!render(&g, &a, f).is_empty());
        }
    }
}
