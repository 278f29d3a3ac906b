//! The ward's own narrative of a period (results, difficulties, proposals,
//! next tasks): the body of the consolidated report, written by VH-XH.

use std::collections::BTreeMap;

use coso_domain::text;
use coso_domain::{Period, Section};

use super::{Actor, Ward, WardError};
use crate::input::InputError;

impl Ward {
    /// The ward's narrative for the period, by section (absent: not written).
    pub fn ward_notes(&self, period: &Period) -> Result<BTreeMap<Section, String>, WardError> {
        Ok(self.hub.store.ward_notes(&period.code)?)
    }

    /// Sets one section of the ward's narrative; an empty text removes it.
    pub async fn set_ward_note(
        &self,
        actor: &Actor,
        period: &Period,
        section: Section,
        text: &str,
    ) -> Result<(), WardError> {
        let t = text::normalize(text.trim());
        if t.len() > text::MAX_NOTE_BYTES {
            return Err(InputError::NoteTooLong {
                max_bytes: text::MAX_NOTE_BYTES,
            }
            .into());
        }
        let _registry = self.hub.store.lock_registry().await;
        let mut notes = self.hub.store.ward_notes(&period.code)?;
        if t.is_empty() {
            notes.remove(&section);
        } else {
            notes.insert(section, t);
        }
        self.hub.store.set_ward_notes(&period.code, &notes).await?;
        tracing::info!(period = %period.code, section = section.as_str(), by = actor.name(), "ward narrative set");
        self.audit(
            actor,
            "note-set",
            None,
            format!("{} {}", period.code, section.as_str()),
        )
        .await?;
        Ok(())
    }
}
