//! End-to-end tests.
mod agent;
mod agent_ui;
mod hub;
mod report;
mod sync;
mod upstream;
