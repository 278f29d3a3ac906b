//! End-to-end tests.
mod a11y;
mod adversarial;
mod agent;
mod agent_ui;
mod architecture;
mod compat;
mod dashboard;
mod disk;
mod hardening;
mod hub;
mod integrity;
mod ops;
mod report;
mod shutdown;
mod sync;
mod upgrade;
mod upstream;
