// The demo page's chat model: what a `message` event of each type shows,
// updates (reaction, edit, revoke) applied to the message they name, and
// receipt ticks on the page's own messages.

// A message the chat shows: {id, chat, sender, pushName, out, time, kind,
// text, detail, caption, media, status, reactions, edited, deleted}.

/** The bubble of a message event, or null for one that changes another (see applyUpdate). */
export function fromEvent(m) {
  const base = {
    id: m.id, sender: m.sender, pushName: m.pushName, out: !!m.fromMe, time: m.time,
    kind: m.type ?? 'text', text: m.text ?? '', reactions: new Map(), status: m.fromMe ? 'sent' : null,
  };
  switch (m.type) {
    case 'reaction': case 'edit': case 'revoke':
      return null;
    case 'image': case 'video': case 'document':
      return { ...base, caption: m.caption ?? m.media?.caption ?? '', media: m.media ?? null, detail: m.media?.fileName ?? '' };
    case 'audio': case 'sticker':
      return { ...base, media: m.media ?? null, detail: m.media?.seconds ? `${m.media.seconds} s` : '' };
    case 'location': case 'live_location': {
      const l = m.location ?? {};
      const where = [l.name, l.address].filter(Boolean).join(', ');
      return { ...base, detail: `${where ? where + ' · ' : ''}${l.degreesLatitude}, ${l.degreesLongitude}` };
    }
    case 'contact':
      return { ...base, detail: m.contact?.displayName ?? '' };
    case 'contacts':
      return { ...base, detail: (m.contacts ?? []).map((c) => c.displayName).join(', ') };
    case 'poll':
      return { ...base, detail: m.poll?.name ?? '', options: m.poll?.options ?? [] };
    case 'poll_vote':
      return { ...base, detail: m.pollVote?.selectedOptions ? `voted: ${m.pollVote.selectedOptions.join(', ') || 'none'}` : `a vote in poll ${m.pollVote?.key?.id ?? ''}` };
    case 'text': case undefined:
      return base;
    default:
      return { ...base, kind: 'unknown', detail: Object.keys(m.raw ?? {}).join(', ') };
  }
}

/**
 * Applies a reaction, edit or revoke event to the message it names in list.
 * Returns a short description for the timeline, and whether a shown message changed.
 */
export function applyUpdate(list, m) {
  const key = m.reaction?.key ?? m.edit?.key ?? m.revoke?.key;
  const target = key && list.find((x) => x.id === key.id);
  let what;
  if (m.type === 'reaction') {
    what = m.reaction.text ? `reacted ${m.reaction.text}` : 'removed a reaction';
    if (target) {
      if (m.reaction.text) target.reactions.set(m.sender, m.reaction.text);
      else target.reactions.delete(m.sender);
    }
  } else if (m.type === 'edit') {
    what = `edited to "${m.edit.text}"`;
    if (target) Object.assign(target, { text: m.edit.text, edited: true });
  } else {
    what = 'deleted a message';
    if (target) Object.assign(target, { deleted: true, text: '', caption: '', media: null, detail: '', options: null });
  }
  return { what: `${what} (${key?.id ?? '?'})`, changed: !!target };
}

// Receipt order: a later receipt never lowers a message's ticks.
const rank = { sent: 1, delivered: 2, read: 3, played: 4 };

/** Raises status to type if that is higher (delivered < read < played). */
export function raise(status, type) {
  return (rank[type] ?? 0) > (rank[status] ?? 0) ? type : status;
}

/** The ticks shown for a status. */
export function ticks(status) {
  return { sent: '✓', delivered: '✓✓', read: '✓✓', played: '✓✓' }[status] ?? '';
}

/** What the bubble says above its text for a message that is not plain text. */
export function label(msg) {
  if (msg.deleted) return '🚫 This message was deleted';
  return {
    image: '📷 Image', video: '🎥 Video', document: '📄 Document', audio: '🎤 Audio', sticker: '🏷️ Sticker',
    location: '📍 Location', live_location: '📍 Live location', contact: '👤 Contact', contacts: '👥 Contacts',
    poll: '📊 Poll', poll_vote: '🗳️ Poll vote', unknown: '❔ Unsupported message',
  }[msg.kind] ?? '';
}
