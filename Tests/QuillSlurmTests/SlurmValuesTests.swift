import Foundation
import QuillCore
import Testing

@testable import QuillSlurm

/// The parts of QuillSlurm that need no cluster: parameters, scripts, parsing, state mapping, preemption.
@Suite struct SlurmValuesTests {
    @Test func parametersBecomeSbatchOptionsInAFixedOrder() throws {
        let parameters = SlurmParameters(
            partition: "gpu",
            time: "02:00:00",
            gres: "gpu:1",
            cpus: 4,
            mem: "16G",
            account: "lab",
            qos: "normal",
            extraArguments: ["--constraint=a100"]
        )
        try parameters.validate()
        #expect(
            parameters.sbatchArguments == [
                "--partition=gpu", "--time=02:00:00", "--gres=gpu:1", "--cpus-per-task=4", "--mem=16G",
                "--account=lab", "--qos=normal", "--constraint=a100",
            ]
        )
        #expect(SlurmParameters().sbatchArguments.isEmpty)
    }

    @Test(arguments: ["5", "0:30", "02:00:00", "1-0", "1-12:00", "2-03:04:05", "UNLIMITED", "infinite"])
    func acceptedTimeLimits(_ time: String) throws {
        try SlurmParameters(time: time).validate()
    }

    @Test(arguments: ["", "2h", "1:2:3:4", "-5", "1-2-3", "a:00", "1::00", "90s"])
    func refusedTimeLimits(_ time: String) {
        let error = #expect(throws: QuillError.self) { try SlurmParameters(time: time).validate() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("--time takes a SLURM time limit") == true)
    }

    @Test func refusedFieldsNameTheOption() {
        let cases: [(SlurmParameters, String)] = [
            (SlurmParameters(cpus: 0), "--cpus must be at least 1"),
            (SlurmParameters(mem: "16 GB"), "--mem takes a whole number"),
            (SlurmParameters(mem: "G"), "--mem takes a whole number"),
            (SlurmParameters(partition: "-x"), "--partition takes a SLURM name"),
            (SlurmParameters(partition: "a b"), "--partition takes a SLURM name"),
            (SlurmParameters(account: ""), "--account takes a SLURM name"),
            (SlurmParameters(qos: "q;rm"), "--qos takes a SLURM name"),
            (SlurmParameters(gres: "gpu 1"), "--gres takes a SLURM name"),
            (SlurmParameters(extraArguments: ["exclusive"]), "--sbatch-arg takes one sbatch option"),
            (SlurmParameters(extraArguments: ["--output=/tmp/x"]), "--sbatch-arg cannot set --output"),
            (SlurmParameters(extraArguments: ["-o/tmp/x"]), "--sbatch-arg cannot set -o"),
            (SlurmParameters(extraArguments: ["--array=0-3"]), "--sbatch-arg cannot set --array"),
        ]
        for (parameters, message) in cases {
            let error = #expect(throws: QuillError.self) { try parameters.validate() }
            #expect(error?.message.contains(message) == true, "\(parameters)")
        }
        #expect(throws: Never.self) { try SlurmParameters(mem: "500m", extraArguments: ["--exclusive"]).validate() }
    }

    @Test func parametersRoundTripThroughJSON() throws {
        let parameters = SlurmParameters(partition: "debug", time: "0:01", cpus: 2, extraArguments: ["--exclusive"])
        let data = try JSONEncoder().encode(parameters)
        #expect(String(decoding: data, as: UTF8.self).contains("\"sbatch_args\""))
        #expect(try JSONDecoder().decode(SlurmParameters.self, from: data) == parameters)
        #expect(try JSONDecoder().decode(SlurmParameters.self, from: Data("{}".utf8)) == SlurmParameters())
    }

    @Test func aPlainScriptExecsTheQuotedCommand() throws {
        let script = SlurmBatchScript(
            name: "train",
            parameters: SlurmParameters(time: "0:01"),
            tasks: [.init(argv: ["python", "train.py", "--note", "it's"], environment: ["SEED": "1"])],
            environment: ["QUILL_RUN_ID": "r 1"],
            workingDirectory: "/work",
            outputPath: "/shared/out-%j.log"
        )
        try script.validate()
        #expect(
            script.text == """
                #!/bin/sh
                # Written by Quill for 'train'; submitted with sbatch.
                export QUILL_RUN_ID='r 1'
                export SEED='1'; exec 'python' 'train.py' '--note' 'it'\\''s'

                """
        )
        #expect(
            script.sbatchArguments == [
                "--parsable", "--job-name=train", "--output=/shared/out-%j.log", "--open-mode=append", "--requeue",
                "--chdir=/work", "--time=0:01",
            ]
        )
        #expect(script.outputPath(for: SlurmJobID(job: 42)) == "/shared/out-42.log")
    }

    @Test func anArrayScriptRunsOneCommandPerTaskWithAThrottle() throws {
        let script = SlurmBatchScript(
            name: "sweep",
            tasks: (0..<3).map { .init(argv: ["echo", "\($0)"]) },
            outputPath: "/shared/sweep-%A_%a.log",
            maxParallel: 2
        )
        try script.validate()
        #expect(script.sbatchArguments.contains("--array=0-2%2"))
        #expect(
            script.text.contains("case \"${SLURM_ARRAY_TASK_ID:-}\" in\n0) exec 'echo' '0' ;;\n1) exec 'echo' '1' ;;")
        )
        #expect(script.outputPath(for: SlurmJobID(job: 7).task(1)) == "/shared/sweep-7_1.log")

        let redirected = SlurmBatchScript(
            name: "sweep",
            tasks: [.init(argv: ["a"], outputPath: "/runs/a.log"), .init(argv: ["b"], outputPath: "/runs/b.log")],
            outputPath: "/shared/x-%A_%a.log"
        )
        try redirected.validate()
        #expect(redirected.text.contains("0) exec >>'/runs/a.log' 2>&1; exec 'a' ;;"))
        #expect(!redirected.sbatchArguments.contains { $0.hasPrefix("--array=") && $0.contains("%") })
    }

    @Test func invalidScriptsAreRefused() {
        let output = "/shared/x.log"
        #expect(throws: QuillError.self) { try SlurmBatchScript(name: "x", tasks: [], outputPath: output).validate() }
        #expect(throws: QuillError.self) {
            try SlurmBatchScript(name: "x", tasks: [.init(argv: [])], outputPath: output).validate()
        }
        #expect(throws: QuillError.self) {
            try SlurmBatchScript(name: "x", tasks: [.init(argv: ["a"])], outputPath: "rel.log").validate()
        }
        #expect(throws: QuillError.self) {
            try SlurmBatchScript(
                name: "x",
                tasks: [.init(argv: ["a"]), .init(argv: ["b"])],
                outputPath: output,
                maxParallel: 0
            )
            .validate()
        }
        #expect(throws: QuillError.self) {
            try SlurmBatchScript(name: "x", tasks: [.init(argv: ["a"])], environment: ["A-B": "1"], outputPath: output)
                .validate()
        }
    }

    @Test func jobIDsParseAndPrint() {
        #expect(SlurmJobID("123") == SlurmJobID(job: 123))
        #expect(SlurmJobID("123_4") == SlurmJobID(job: 123, task: 4))
        #expect(SlurmJobID("123_[0-7%2]") == nil)
        #expect(SlurmJobID("x") == nil)
        #expect(SlurmJobID(job: 9).task(2).description == "9_2")
    }

    @Test func squeueLinesParse() {
        let text = """
            2|2|N/A|COMPLETED|None|0|0|
            5|3|1|FAILED|NonZeroExitCode|768|0|
            3|3|3|PENDING|Resources|0|0|
            9|9|N/A|PENDING|BeginTime|0|1|
            10|10|N/A|CANCELLED|None|15|0|
            garbage
            """
        let infos = SlurmClient.parseSqueue(text)
        #expect(infos.count == 5)
        #expect(infos[0] == SlurmJobInfo(id: SlurmJobID(job: 2), rawID: 2, state: "COMPLETED", exitCode: 0))
        #expect(
            infos[1]
                == SlurmJobInfo(
                    id: SlurmJobID(job: 3, task: 1),
                    rawID: 5,
                    state: "FAILED",
                    reason: "NonZeroExitCode",
                    exitCode: 3
                )
        )
        #expect(infos[2].id == SlurmJobID(job: 3, task: 3) && infos[2].reason == "Resources")
        #expect(infos[3].restarts == 1 && infos[3].phase() == .queued)
        #expect(infos[4].signal == 15 && infos[4].exitCode == nil)
    }

    @Test func scontrolAndSacctLinesParse() {
        let scontrol = """
            JobId=12 ArrayJobId=11 ArrayTaskId=1 JobName=a b UserId=root(0) JobState=TIMEOUT Reason=TimeLimit Dependency=(null) Requeue=1 Restarts=2 BatchFlag=1 ExitCode=0:15 RunTime=00:01:02
            JobId=13 JobName=x JobState=PENDING Reason=launch failed requeued held Dependency=(null) Restarts=0 ExitCode=0:0
            """
        let infos = SlurmClient.parseScontrol(scontrol)
        #expect(infos.count == 2)
        #expect(
            infos[0]
                == SlurmJobInfo(
                    id: SlurmJobID(job: 11, task: 1),
                    rawID: 12,
                    state: "TIMEOUT",
                    reason: "TimeLimit",
                    signal: 15,
                    restarts: 2
                )
        )
        #expect(infos[1].reason == "launch failed requeued held" && infos[1].id == SlurmJobID(job: 13))

        let sacct = """
            20|20|CANCELLED by 0|0:15
            22|21_1|COMPLETED|0:0
            23|21_2|FAILED|2:0
            """
        let accounted = SlurmClient.parseSacct(sacct)
        #expect(
            accounted.map(\.id) == [SlurmJobID(job: 20), SlurmJobID(job: 21, task: 1), SlurmJobID(job: 21, task: 2)]
        )
        #expect(accounted[0].state == "CANCELLED" && accounted[0].signal == 15)
        #expect(accounted[2].exitCode == 2 && accounted[2].rawID == 23)
    }

    @Test func statesMapToQuillPhases() {
        func phase(
            _ state: String,
            exit: Int? = 0,
            signal: Int? = nil,
            policy: SlurmPreemptionPolicy = .init()
        ) -> SlurmPhase {
            SlurmJobInfo(id: SlurmJobID(job: 1), rawID: 1, state: state, exitCode: exit, signal: signal).phase(policy)
        }
        #expect(phase("PENDING") == .queued)
        #expect(phase("RUNNING") == .running)
        #expect(phase("COMPLETING") == .running)
        #expect(phase("COMPLETED") == .completed)
        for state in ["FAILED", "NODE_FAIL", "OUT_OF_MEMORY", "TIMEOUT"] {
            guard case .failed(let reason) = phase(state, exit: 1) else {
                Issue.record("\(state) is not failed")
                continue
            }
            #expect(reason.contains(state))
        }
        #expect(phase("FAILED", exit: 3) == .failed("SLURM job 1 FAILED: exited with status 3"))
        #expect(phase("CANCELLED") == .cancelled("SLURM job 1 was cancelled in SLURM"))
        #expect(phase("CANCELLED", policy: .init(cancelledIsPreempted: true)).isFinal)
        guard case .preempted(_, requeued: false) = phase("CANCELLED", policy: .init(cancelledIsPreempted: true)) else {
            Issue.record("CANCELLED is not preempted under QUILL_CANCELLED_IS_PREEMPTED")
            return
        }
        #expect(phase("PREEMPTED") == .preempted("SLURM job 1 PREEMPTED", requeued: false))
        #expect(phase("REQUEUED") == .preempted("SLURM job 1 REQUEUED", requeued: true))
        #expect(!phase("REQUEUED").isFinal)
        #expect(phase("SOMETHING_NEW") == .running)
    }

    @Test func thePolicyReadsTheEnvironment() throws {
        #expect(
            try SlurmPreemptionPolicy(environment: [:])
                == SlurmPreemptionPolicy(maximum: 5, cancelledIsPreempted: false)
        )
        let set = try SlurmPreemptionPolicy(environment: [
            "QUILL_PREEMPT_MAX": "2", "QUILL_CANCELLED_IS_PREEMPTED": "yes",
        ])
        #expect(set == SlurmPreemptionPolicy(maximum: 2, cancelledIsPreempted: true))
        #expect(set.runsAgain(afterPreemptions: 2) && !set.runsAgain(afterPreemptions: 3))
        #expect(set.exhaustedReason(preemptions: 3) == "preempted 3 times, more than QUILL_PREEMPT_MAX (2) allows")
        let negative = #expect(throws: QuillError.self) {
            try SlurmPreemptionPolicy(environment: ["QUILL_PREEMPT_MAX": "-1"])
        }
        #expect(negative?.message.contains("QUILL_PREEMPT_MAX takes a whole number") == true)
        let maybe = #expect(throws: QuillError.self) {
            try SlurmPreemptionPolicy(environment: ["QUILL_CANCELLED_IS_PREEMPTED": "maybe"])
        }
        #expect(maybe?.message.contains("QUILL_CANCELLED_IS_PREEMPTED takes 1 or 0") == true)
    }

    @Test func theFollowerCountsRequeuesOnceWhicheverWayTheyShow() {
        let id = SlurmJobID(job: 5)
        func info(_ state: String, restarts: Int = 0) -> SlurmJobInfo {
            SlurmJobInfo(id: id, rawID: 5, state: state, exitCode: 0, restarts: restarts)
        }
        var follower = SlurmJobFollower(policy: .init())
        #expect(follower.observe(info("PENDING")) == [])
        #expect(follower.observe(info("RUNNING")) == [.started])
        #expect(follower.observe(info("RUNNING")) == [])
        // Seen REQUEUED, then PENDING with the restart count risen: one preemption.
        #expect(follower.observe(info("REQUEUED")).count == 1)
        #expect(follower.observe(info("PENDING", restarts: 1)) == [])
        // Requeued and running again between two polls: only the count shows it.
        #expect(follower.observe(info("RUNNING", restarts: 1)) == [.started])
        #expect(
            follower.observe(info("RUNNING", restarts: 2)).first == .requeued("SLURM job 5 was requeued (preempted)")
        )
        #expect(follower.restarts == 2)
        #expect(follower.observe(info("COMPLETED", restarts: 2)) == [.ended(.completed)])
        #expect(follower.observe(info("COMPLETED", restarts: 2)) == [])

        var lost = SlurmJobFollower(policy: .init())
        #expect(lost.observe(nil) == [.vanished])
    }
}
