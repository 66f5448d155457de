using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// What decides, event by event, whether a transfer of a gated batch may go to the ledger (an extension's rule, such as
/// a key's spending policy), and learns which ones the ledger applied. The ledger never learns what the rule is.
/// </summary>
/// <typeparam name="TResult">The batch's result: a 32-bit enum whose 0 means Ok.</typeparam>
internal interface ITransferGate<TResult>
    where TResult : unmanaged, Enum
{
    /// <summary>The ledger's result for a transfer, as the batch's result.</summary>
    static abstract TResult FromLedger(CreateTransferResult result);

    /// <summary>
    /// Whether transfer <paramref name="i"/> may be applied at <paramref name="timestamp"/>: 0 (Ok) to go on to the
    /// ledger's checks, else the refusal. Not asked for a transfer whose id is already taken (the ledger's idempotent
    /// answer comes first, whatever the rule would say now).
    /// </summary>
    TResult Check(int i, ulong timestamp);

    /// <summary>Transfer <paramref name="i"/> was applied at <paramref name="timestamp"/>.</summary>
    void Applied(int i, ulong timestamp);
}

/// <content>
/// Gated transfer batches: single-phase transfers that an extension authorises one by one (signed payment orders), run
/// through the same look-ahead pipeline as a plain batch, so the ledger's cost per transfer stays that of a plain one.
/// </content>
public sealed partial class LedgerStateMachine
{
    /// <summary>
    /// Applies a batch of unlinked transfers, each only if <paramref name="gate"/> lets it (see <see cref="ITransferGate{TResult}"/>):
    /// the clock, expiries and deadlines advance as for any batch; event <c>i</c> is stamped start + <c>i</c>; a transfer
    /// the ledger refuses for a transient reason burns its id, as in <see cref="CreateTransfers"/>.
    /// </summary>
    /// <returns>The number of transfers not applied.</returns>
    /// <exception cref="ArgumentException">A transfer is linked (a gated batch has no chains).</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal int CreateGatedTransfers<TResult, TGate>(ulong timestamp, ReadOnlySpan<Transfer> transfers, Span<TResult> results, ref TGate gate)
        where TResult : unmanaged, Enum
        where TGate : struct, ITransferGate<TResult>
    {
        foreach (ref readonly Transfer t in transfers)
        {
            if ((t.Flags & TransferFlags.Linked) != 0)
            {
                throw new ArgumentException("A gated batch holds no linked transfers.", nameof(transfers));
            }
        }

        _transfers.Reserve(transfers.Length);
        var kind = new GatedTransferKind<TResult, TGate>(this, gate);
        int failed = ApplyBatch<Transfer, TResult, GatedTransferKind<TResult, TGate>>(ref kind, timestamp, transfers, results);
        gate = kind.Gate;
        return failed;
    }

    /// <summary>Gated transfers in the shared batch driver: the transfers' look-ahead pipeline, the gate before each transfer.</summary>
    private struct GatedTransferKind<TResult, TGate>(LedgerStateMachine ledger, TGate gate) : IEventKind<Transfer, TResult>
        where TResult : unmanaged, Enum
        where TGate : struct, ITransferGate<TResult>
    {
        public TGate Gate = gate;

        public static TResult Ok => default;

        public static TResult LinkedEventFailed => TGate.FromLedger(CreateTransferResult.LinkedEventFailed);

        public static TResult LinkedEventChainOpen => TGate.FromLedger(CreateTransferResult.LinkedEventChainOpen);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool IsLinked(in Transfer e) => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool IsOk(TResult result) => Unsafe.As<TResult, uint>(ref result) == 0;

        public readonly void BeforeBatch(ReadOnlySpan<Transfer> events)
        {
            for (int i = 0; i < Math.Min(events.Length, HashDistance); i++)
            {
                ledger.HashAhead(events, i);
            }

            for (int i = 0; i < Math.Min(events.Length, LocateDistance); i++)
            {
                ledger.LocateAhead(i);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void BeforeEvent(ReadOnlySpan<Transfer> events, int i)
        {
            if (i + HashDistance < events.Length)
            {
                ledger.HashAhead(events, i + HashDistance);
            }

            if (i + LocateDistance < events.Length)
            {
                ledger.LocateAhead(i + LocateDistance);
            }
        }

        public TResult Apply(ReadOnlySpan<Transfer> events, int i, ulong timestamp, bool inChain)
        {
            ref readonly Transfer t = ref events[i];
            int slot = i & RingMask;

            // Idempotency first: a taken id (the index slot is already prefetched) gets the ledger's answer, whatever the gate would say.
            if (ledger._transfers.FindEntry(ledger._ring[slot].HashTransfer, t.Id) == IdIndex.NotFound)
            {
                TResult refused = Gate.Check(i, timestamp);
                if (!IsOk(refused))
                {
                    return refused;
                }
            }

            CreateTransferResult result = ledger.CreateTransferCore(t, timestamp, slot, inChain);
            if (result == CreateTransferResult.Ok)
            {
                Gate.Applied(i, timestamp);
                return default;
            }

            if (IsTransient(result))
            {
                ledger._transfers.Burn(t.Id, ledger._ring[slot].HashTransfer);
            }

            return TGate.FromLedger(result);
        }

        public readonly void AfterFailure(ReadOnlySpan<Transfer> events, int i, TResult result)
        {
            // Burnt in Apply, where the ledger's own result is known (a gate's refusal burns nothing).
        }
    }
}
