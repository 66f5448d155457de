namespace Micropay.Core.Tests.Storage.Disk;

/// <summary>The kinds of call a <c>SimulatedDisk</c> can fail on demand (public only because xunit theories take it as data).</summary>
public enum DiskOperation
{
    Open,
    Stat,
    Read,
    Write,
    Flush,
    SetLength,
    Move,
    Delete,
    List,
    CreateDirectory,
    SyncDirectory,
    Lock,
}
