//! Free text (an analyst's note, a ticket, an e-mail): the whole text is the description, its first
//! line the title, and the observables are taken from it. There are no events: prose has no
//! reliable per-line structure.

use super::{shorten, Builder};

pub(crate) fn read(text: &str, b: &mut Builder<'_>) {
    let description = text.trim();
    b.title = Some(shorten(description, 120));
    b.set.scan(description, "description", None);
    b.description = Some(description.to_owned());
}
