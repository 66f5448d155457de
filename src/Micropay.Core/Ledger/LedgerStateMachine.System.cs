using System.Diagnostics;

namespace Micropay.Core.Ledger;

/// <content>
/// The ledger's own operations: the instance id, system accounts and transfers in the reserved id range
/// (<see cref="ReservedIds"/>), and the extensions that apply them (<see cref="LedgerExtension"/>).
/// </content>
public sealed partial class LedgerStateMachine
{
    // Set only for the duration of a system call on the writer thread: lets the reserved-id checks pass.
    private bool _systemPosting;

    // One per kind of extension, by slot; null until that kind's first event (or its snapshot section) creates it.
    private readonly LedgerExtension?[] _extensions = new LedgerExtension?[LedgerExtension.SlotCount];

    /// <summary>
    /// The ledger instance's id: fixed when the ledger is first created (a journaled operation, replayed on recovery and
    /// kept in snapshots), bound into every signed message so a signature for one deployment is worthless on another.
    /// 0 until set.
    /// </summary>
    internal UInt128 InstanceId { get; private set; }

    /// <summary>Sets the instance id once; the same id again is <see cref="InstanceIdResult.Exists"/>, another one refused.</summary>
    internal InstanceIdResult SetInstanceId(ulong timestamp, UInt128 id)
    {
        BeginBatch(timestamp, 1);
        if (id == UInt128.Zero)
        {
            return InstanceIdResult.IdMustNotBeZero;
        }

        if (InstanceId == UInt128.Zero)
        {
            InstanceId = id;
            return InstanceIdResult.Ok;
        }

        return InstanceId == id ? InstanceIdResult.Exists : InstanceIdResult.ExistsWithDifferentId;
    }

    /// <summary>Restores the instance id from a snapshot (before any batch is replayed).</summary>
    internal void RestoreInstanceId(UInt128 id) => InstanceId = id;

    /// <summary>The extension in <paramref name="slot"/>, or null when this ledger has none yet.</summary>
    internal LedgerExtension? GetExtension(int slot) => _extensions[slot];

    /// <summary>The extension in <paramref name="slot"/>, created by <paramref name="create"/> the first time.</summary>
    internal T GetOrAddExtension<T>(int slot, Func<LedgerStateMachine, T> create)
        where T : LedgerExtension
    {
        if (_extensions[slot] is T existing)
        {
            return existing;
        }

        Debug.Assert(_extensions[slot] is null, "one kind of extension per slot");
        T created = create(this);
        _extensions[slot] = created;
        return created;
    }

    /// <summary>
    /// Starts a batch of <paramref name="count"/> events of an extension's kind, exactly as the ledger's own batches
    /// start: the clock advances, due holds expire and due deadlines fire. Returns the first event's timestamp (event
    /// <c>i</c> gets that plus <c>i</c>).
    /// </summary>
    internal ulong BeginExtensionBatch(ulong timestamp, int count) => BeginBatch(timestamp, count);

    /// <summary>
    /// Creates an account the ledger owns, such as a channel's escrow: the ordinary checks apply, except that its id may
    /// (and should) lie in the reserved range. Makes room for it first.
    /// </summary>
    internal CreateAccountResult CreateSystemAccount(in Account account, ulong timestamp, bool grouped = false)
    {
        _accounts.Reserve(1);
        _systemPosting = true;
        try
        {
            return CreateAccountCore(account, timestamp, inChain: grouped);
        }
        finally
        {
            _systemPosting = false;
        }
    }

    /// <summary>
    /// Applies a single-phase transfer the ledger makes itself (a deposit into escrow, a redemption, a refund): every
    /// ordinary check applies (so balance flags, overflow and idempotency hold for it), except that its id and its
    /// accounts may lie in the reserved range. A failure is not burnt: system ids are derived from what they stand for
    /// and must stay usable once the failure's cause is gone (callers check funds first, so they rarely fail).
    /// Makes room for it first.
    /// </summary>
    internal CreateTransferResult CreateSystemTransfer(in Transfer transfer, ulong timestamp, bool grouped = false)
    {
        PrepareOneTransfer(transfer);
        _systemPosting = true;
        try
        {
            return CreateTransferCore(transfer, timestamp, 0, inChain: grouped);
        }
        finally
        {
            _systemPosting = false;
        }
    }

    /// <summary>
    /// Makes room for one system transfer and fills look-ahead slot 0 with its hashes and account candidates, as the
    /// batch pipeline's stages A and B would. The ring is free here: a transfer batch fills it only
    /// after its BeginBatch, where deadlines fire, and extension batches never use it.
    /// </summary>
    private void PrepareOneTransfer(in Transfer transfer)
    {
        _transfers.Reserve(1);
        ref Lookahead slot = ref _ring[0];
        slot.HashTransfer = IdHash.Hash(transfer.Id);
        slot.HashDebit = IdHash.Hash(transfer.DebitAccountId);
        slot.HashCredit = IdHash.Hash(transfer.CreditAccountId);
        slot.CandidateDebit = _accounts.FindCandidate(slot.HashDebit);
        slot.CandidateCredit = _accounts.FindCandidate(slot.HashCredit);
    }

    /// <summary>
    /// Starts a group of system calls that succeed or fail together (a channel's escrow and its deposit): calls made with
    /// <c>grouped: true</c> until <see cref="EndSystemGroup"/> are undone by <see cref="RollbackSystemGroup"/>. Uses the
    /// linked-chain undo log, which is free here: extension events are never linked, and deadlines fire before a batch's
    /// first chain begins.
    /// </summary>
    internal void BeginSystemGroup() => BeginChain();

    /// <summary>Undoes every grouped call since <see cref="BeginSystemGroup"/>.</summary>
    internal void RollbackSystemGroup() => RollbackChain();

    /// <summary>Keeps every grouped call since <see cref="BeginSystemGroup"/>.</summary>
    internal void EndSystemGroup() => _undo.Clear();

    /// <summary>The earliest deadline any extension has scheduled, or false when none.</summary>
    private bool TryPeekExtensionDeadline(out ulong at)
    {
        at = ulong.MaxValue;
        bool any = false;
        foreach (LedgerExtension? extension in _extensions)
        {
            if (extension is not null && extension.TryPeekNextDeadline(out ulong next))
            {
                at = Math.Min(at, next);
                any = true;
            }
        }

        return any;
    }

    /// <summary>Fires the extensions' deadlines due by <paramref name="now"/>, in slot order; returns the first timestamp not used.</summary>
    private ulong FireExtensionDeadlines(ulong now, ulong nextTimestamp)
    {
        foreach (LedgerExtension? extension in _extensions)
        {
            if (extension is not null)
            {
                nextTimestamp = extension.FireDue(now, nextTimestamp);
            }
        }

        return nextTimestamp;
    }
}
