//! End-to-end tests.
mod adversarial;
mod agent;
mod agent_ui;
mod architecture;
mod dashboard;
mod disk;
mod hardening;
mod hub;
mod integrity;
mod release;
mod report;
mod shutdown;
mod sync;
mod upstream;
