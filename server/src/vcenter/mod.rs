//! vCenter as a source of inventory (docs/VCENTER.md): a vSphere Web Services session
//! ([`soap`]), one property-collector pass over every object ([`collect`]), and vCenter's
//! objects as vmshift's ([`map`]).

pub mod collect;
pub mod devices;
pub mod map;
pub mod soap;

pub use soap::{ServiceContent, SoapError};

/// Logs in to the vCenter at `url` (`https://vcenter/sdk`) and reads its whole inventory as an
/// import file, with the vCenter's service content (its instance UUID and name).
pub async fn read_inventory(
    url: &str,
    username: &str,
    password: &str,
) -> Result<(ServiceContent, domain::InventoryFile), SoapError> {
    let mut session = soap::Session::login(url, username, password).await?;
    let objects = collect::collect(&mut session, map::WANTED).await?;
    let file = map::inventory(&session.content.instance_uuid, &objects);
    Ok((session.content, file))
}
