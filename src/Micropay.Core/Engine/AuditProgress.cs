namespace Micropay.Core.Engine;

/// <summary>How far <see cref="AuditVerifier"/> has come (reported a few times a second, and once at the end).</summary>
/// <remarks>
/// The verifier reads the journal twice: once to check every record's framing, checksum and order, once to replay it in
/// batch order. <see cref="BytesTotal"/> counts both reads, so <see cref="BytesDone"/> / <see cref="BytesTotal"/> is the
/// fraction done. For a damaged journal the last report may stay below the total: the second pass skips what the first
/// found unsound.
/// </remarks>
public readonly struct AuditProgress
{
    /// <summary>Creates a progress report.</summary>
    /// <param name="batchesDone">Batches checked by the second pass (0 during the first).</param>
    /// <param name="bytesDone">Journal bytes read so far, both passes.</param>
    /// <param name="bytesTotal">Journal bytes both passes read in all.</param>
    public AuditProgress(ulong batchesDone, long bytesDone, long bytesTotal)
    {
        BatchesDone = batchesDone;
        BytesDone = bytesDone;
        BytesTotal = bytesTotal;
    }

    /// <summary>Batches checked by the second pass (0 during the first).</summary>
    public ulong BatchesDone { get; }

    /// <summary>Journal bytes read so far, both passes.</summary>
    public long BytesDone { get; }

    /// <summary>Journal bytes both passes read in all (twice the journal's size).</summary>
    public long BytesTotal { get; }
}
