using FsCheck;
using FsCheck.Xunit;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Storage;

/// <summary>A snapshot file comes back exactly as written or not at all, whatever single byte of it is damaged.</summary>
public sealed class FileLedgerStoreSnapshotProperties
{
    [Property(MaxTest = 60)]
    public bool DamagedSnapshot_IsNeverReturned(PositiveInt length, NonNegativeInt position, bool version2, bool mapped)
    {
        string directory = Path.Combine(Path.GetTempPath(), "micropay-snapshot-prop-" + Guid.NewGuid().ToString("N"));
        try
        {
            return Check(directory, (length.Get % 5000) + 1, position.Get, version2 ? 2 : 1, mapped).GetAwaiter().GetResult();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<bool> Check(string directory, int length, int position, int version, bool mapped)
    {
        byte[] state = [.. Enumerable.Range(0, length).Select(i => unchecked((byte)((i * 31) ^ length)))];
        await using (var store = new FileLedgerStore(directory))
        {
            await store.OpenAsync();
            await store.AppendAsync(Micropay.Core.CrashHarness.CrashBatches.Create(1, BatchHash.Zero));
        }

        string path = Path.Combine(directory, $"snapshot-{1:D20}.snap");
        FileLedgerStoreOpenTests.WriteSnapshotFile(path, 1, state, version);
        FileLedgerStoreTests.FlipByte(path, position % (64 + length));

        await using var reopened = new FileLedgerStore(directory) { MapSnapshotsFrom = mapped ? 1 : int.MaxValue };
        LedgerStoreState opened = await reopened.OpenAsync();
        var read = await FileLedgerStoreOpenTests.ReadLatestAsync(reopened, mapped);

        // Every byte of the file is covered: the header's fields are checked or hashed, the reserved bytes must be 0.
        return read is null && opened.LatestSnapshotBatchNumber == 0;
    }
}
