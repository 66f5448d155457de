namespace Micropay.Core.Ledger;

/// <summary>
/// State that lives beside the ledger's tables and changes with them on the writer thread: channels, and keys
/// with their policies. An extension moves money only through the ledger's system calls
/// (<see cref="LedgerStateMachine.CreateSystemAccount"/>, <see cref="LedgerStateMachine.CreateSystemTransfer"/>), so
/// the ledger's invariants and its change log hold for it, and it may schedule deadlines on the ledger's clock.
/// </summary>
/// <remarks>
/// <para>
/// Each kind of extension has a fixed slot (<see cref="ChannelsSlot"/>, ...). The slot, not the order in which a ledger
/// happened to create its extensions, decides the order in which their deadlines fire at the start of a batch, so a
/// ledger restored from a snapshot fires them exactly as the ledger that wrote it did.
/// </para>
/// <para>Not thread-safe, like the ledger: only the writer thread calls it.</para>
/// </remarks>
internal abstract class LedgerExtension
{
    /// <summary>The slot of the channel state (<c>Micropay.Core.Channels</c>).</summary>
    public const int ChannelsSlot = 0;

    /// <summary>The slot of the key registry (<c>Micropay.Core.Identity</c>).</summary>
    public const int IdentitySlot = 1;

    /// <summary>The number of slots: one per kind of extension this build has.</summary>
    public const int SlotCount = 2;

    protected LedgerExtension(LedgerStateMachine ledger) => Ledger = ledger;

    /// <summary>The ledger this state belongs to.</summary>
    public LedgerStateMachine Ledger { get; }

    /// <summary>The earliest deadline this extension has scheduled (possibly one that no longer applies), or false when none.</summary>
    public abstract bool TryPeekNextDeadline(out ulong at);

    /// <summary>
    /// Fires every deadline due at or before <paramref name="now"/>, earliest first. A deadline that moves money does it
    /// with system transfers stamped <paramref name="nextTimestamp"/>, <paramref name="nextTimestamp"/> + 1, ...
    /// </summary>
    /// <returns>The first timestamp not used: <paramref name="nextTimestamp"/> when nothing was stamped.</returns>
    public abstract ulong FireDue(ulong now, ulong nextTimestamp);
}
