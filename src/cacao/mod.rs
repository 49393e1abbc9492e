//! CACAO v2.0: the typed model, identifiers, loading with limits, and validation (JSON Schema plus
//! semantic checks). Pure and synchronous: nothing here knows of models, HTTP, databases or files.

pub mod condition;
pub mod ids;
pub mod load;
pub mod model;
pub mod schema;
pub mod semantic;
pub mod validate;

pub use ids::Identifier;
pub use load::{Limits, LoadError};
pub use model::Playbook;
pub use validate::{validate, Report, Validator};
