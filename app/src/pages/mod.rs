pub mod inventory;
pub mod map;
pub mod migrate;
