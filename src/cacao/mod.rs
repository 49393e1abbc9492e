//! CACAO v2.0: the typed model, identifiers, loading with limits, and validation (JSON Schema plus
//! semantic checks). Pure and synchronous: nothing here knows of models, HTTP, databases or files.

pub mod schema;
