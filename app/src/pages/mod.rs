pub mod account;
pub mod audit;
pub mod inventory;
pub mod map;
pub mod migrate;
pub mod migration;
pub mod signin;
pub mod tasks;
