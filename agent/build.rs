//! Records the commit this binary is built from (`--version`); the shared
//! code is `tools/build_commit.rs`.

include!("../tools/build_commit.rs");

fn main() {
    emit_commit();
}
