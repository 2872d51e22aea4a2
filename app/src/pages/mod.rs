pub mod inventory;
pub mod map;
