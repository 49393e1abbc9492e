//! Scoring a candidate playbook against a reference: node and edge recall/precision.
//!
//! - [`text`]: tokens and Jaccard similarity of step texts;
//! - [`align`]: one-to-one greedy matching of reference and candidate steps;
//! - [`metrics`]: [`score`], the metric itself (its decisions are documented there);
//! - [`dataset`]: the seed-004 incident/playbook dataset reader;
//! - [`batch`]: scoring a dataset against a directory of candidates, with a summary.

pub mod align;
pub mod batch;
pub mod dataset;
pub mod metrics;
pub mod text;

pub use batch::{read_candidate, render_table, score_dir, score_records, Candidate, RecordScore, Summary};
pub use dataset::{
    parse_dataset, read_dataset, AttackLog, Dataset, DatasetError, DatasetRecord, GeneratorView, Mitigation,
    RecordProblem,
};
pub use metrics::{score, zero_score, Counts, ExactScore, NodeMatch, Score, ScoreOptions, DEFAULT_THRESHOLD};
