//! JSON Schema validation against the project's own CACAO v2.0 schemas (schemas/, embedded).
