import NIOCore

/// Runs tasks on one NIO event loop: the one the HTTP client's connections live on.
///
/// A job started with this executor preference issues its HTTP call, arms the call's deadline and
/// receives the answer on the same thread, so none of those steps needs a cross-thread wake-up
/// (an `eventfd` write and a context switch each; they were most of a job's CPU on the
/// cooperative pool). The price: a process's job work shares that one thread, so a worker process
/// uses about one core for jobs, plus its Redis thread; scale with processes.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
