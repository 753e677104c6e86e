//! A shared location (Telegram's `location` message): the district whose boundary holds
//! it becomes the chat's district choice. The point itself is used for this one lookup
//! and never stored or logged; only the district's key is saved with the settings.

use super::settings::{chat_settings, save};
use super::{Ctx, HandlerResult};
use crate::bot::incoming::SharedLocation;
use crate::domain::DistrictSet;

pub(super) async fn shared(ctx: &Ctx<'_>, location: SharedLocation) -> HandlerResult {
    let districts = &ctx.app.settings.districts;
    if districts.is_empty() {
        ctx.reply(ctx.text("location.no_districts")).await?;
        return Ok(());
    }
    let Some(district) = districts.containing(location.latitude, location.longitude) else {
        tracing::info!(chat = ctx.chat_id(), "shared location outside every district");
        let all: Vec<&str> = districts.all().iter().map(|d| d.name(ctx.lang)).collect();
        let all = all.join(ctx.label("settings.list_separator").as_str());
        ctx.reply(ctx.fill("location.outside", &[("all", (&all).into())])).await?;
        return Ok(());
    };
    if !ctx.may_manage_chat().await? {
        ctx.reply(ctx.text("group.admins_only")).await?;
        return Ok(());
    }
    tracing::info!(chat = ctx.chat_id(), district = %district.key, "shared location placed in a district");
    let mut settings = chat_settings(ctx);
    settings.districts = DistrictSet::from([district.key.clone()]);
    let saved = save(ctx, settings).await?;
    let after = Ctx { lang: saved.language, zone: saved.time_zone, chat: Some(saved.clone()), ..*ctx };
    let name = district.name(after.lang);
    after.reply(after.fill("location.found", &[("district", name.into())])).await?;
    Ok(())
}
