//! The city level's reading of its inbox: the received ward reports a
//! roll-up is made of. The roll-up itself is pure, in `coso_report::city`.

mod load;

pub use load::load;
