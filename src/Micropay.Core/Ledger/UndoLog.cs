using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// What a linked chain changed, so that a failing chain can be rolled back exactly. Written only while a chain
/// is open; cleared when a chain starts. Undone newest first, which is what makes removing table rows from
/// the end valid.
/// </summary>
internal sealed class UndoLog
{
    private Entry[] _entries = new Entry[16];
    private int _count;

    public int Count => _count;

    public void Clear() => _count = 0;

    public void AccountChanged(int row, in Account before) => Add(new Entry(UndoKind.AccountChanged, row, before, default));

    public void AccountAdded(int row) => Add(new Entry(UndoKind.AccountAdded, row, default, default));

    public void TransferAdded(int row) => Add(new Entry(UndoKind.TransferAdded, row, default, default));

    public void StatusChanged(int row, PendingStatus before) => Add(new Entry(UndoKind.StatusChanged, row, default, before));

    public ref readonly Entry this[int i] => ref _entries[i];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Add(in Entry entry)
    {
        if (_count == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }

        _entries[_count++] = entry;
    }

    internal enum UndoKind : byte
    {
        AccountChanged,
        AccountAdded,
        TransferAdded,
        StatusChanged,
    }

    internal readonly struct Entry(UndoKind kind, int row, Account account, PendingStatus status)
    {
        public UndoKind Kind { get; } = kind;

        public int Row { get; } = row;

        public Account Account { get; } = account;

        public PendingStatus Status { get; } = status;
    }
}
