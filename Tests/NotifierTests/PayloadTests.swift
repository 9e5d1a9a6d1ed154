import Foundation
import Testing
@testable import notifier
@testable import Store
@testable import HTTPClient
@testable import WorkerRuntime
@testable import Wire
import TestKit


@Suite("AlertPayload and policies")
struct PayloadTests {
    @Test("webhook JSON: snake_case keys and explicit nulls")
    func jsonShape() throws {
        var p = testAlert(1, kind: .blockStall)
        p.node = nil
        p.mode = nil
        let object = try #require(try JSONSerialization.jsonObject(with: p.jsonData()) as? [String: Any])
        for key in ["id", "kind", "severity", "instance", "network", "node", "block", "extrinsic", "event", "title", "text", "links", "fields", "observed_at"] {
            #expect(object.keys.contains(key), "missing \(key)")
        }
        #expect(object["node"] is NSNull)
        #expect(object["extrinsic"] is NSNull)
        #expect(object["event"] is NSNull)
        #expect(object["mode"] == nil)
        #expect(object["kind"] as? String == "BlockStall")
        #expect(object["severity"] as? String == "critical")
        #expect((object["block"] as? [String: Any])?["height"] as? Int == 1001)
        #expect(try AlertPayload.decode(p.jsonData()) == p)
    }

    @Test("every INTERFACE.md kind exists")
    func kinds() {
        let listed = "Startup BlockStall BlockResumed BlockChainTimeGap SideForkExtended Reorg SudoCall SudoEvent LargeBalanceTransfer LargeBalanceTransferEvent ForceBalanceTransfer ImportantAddressTransfer ImportantAddressTransferEvent ImportantAddressExtrinsic ImportantAddressEvent OperatorSlashed OperatorOffline SlowSlotTime FastSlotTime FarmersDecreased FarmersIncreased RuntimeUpgraded NodeDisconnected NodeReconnected NodeIsolated NodeRecovered WorkerRestarted AlertMessageProcessed AlertMessageRejected"
        #expect(Set(AlertKind.allCases.map(\.rawValue)) == Set(listed.split(separator: " ").map(String.init)))
    }

    @Test("backoff grows, is capped, and Retry-After wins")
    func backoff() {
        let p = RetryPolicy(base: .milliseconds(100), cap: .seconds(2))
        #expect(p.delay(afterAttempt: 1, retryAfter: nil, random: 1) <= .milliseconds(100))
        #expect(p.delay(afterAttempt: 3, retryAfter: nil, random: 0) == .milliseconds(200))
        #expect(p.delay(afterAttempt: 40, retryAfter: nil, random: 0.99) <= .seconds(2))
        #expect(p.delay(afterAttempt: 5, retryAfter: .seconds(7), random: 0.5) == .seconds(7))
        #expect(RetryAfter.parse("3") == .seconds(3))
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetryAfter.parse("Tue, 14 Nov 2023 22:13:30 GMT", now: now) == .seconds(10))
        #expect(RetryAfter.parse("soon") == nil)
    }

    @Test("webhook status classification")
    func classification() {
        #expect(WebhookSink.classify(status: 204, retryAfter: nil) == .accepted)
        #expect(WebhookSink.classify(status: 404, retryAfter: nil) == .permanent(reason: "HTTP 404"))
        #expect(WebhookSink.classify(status: 429, retryAfter: "2") == .retry(reason: "HTTP 429", retryAfter: .seconds(2)))
        #expect(WebhookSink.classify(status: 500, retryAfter: nil) == .retry(reason: "HTTP 500", retryAfter: nil))
    }

    @Test("uptime kuma status from the store's view")
    func kumaStatus() {
        #expect(UptimeKumaStatus.from(bestHeight: nil, openStall: nil).url(base: "http://k/push/x?status=up&msg=OK&ping=")
                == "http://k/push/x?status=down&msg=STARTUP")
        #expect(UptimeKumaStatus.from(bestHeight: 42, openStall: nil).url(base: "http://k/push/x") == "http://k/push/x?status=up&msg=OK&ping=42")
        let stalled = UptimeKumaStatus.from(bestHeight: 42, openStall: testAlert(1, kind: .blockStall))
        #expect(stalled.status == "down")
        #expect(stalled.message.hasPrefix("STALLED since"))
    }

    @Test("terminal rendering is one block per alert, coloured only on request")
    func terminal() {
        let plain = TerminalSink.render(testAlert(1), colour: false)
        #expect(plain.hasPrefix("[CRITICAL] SudoCall: SudoCall 1\n"))
        #expect(plain.hasSuffix("\n\n"))
        #expect(!plain.contains("\u{1B}["))
        #expect(TerminalSink.render(testAlert(1), colour: true).contains("\u{1B}[1;31m"))
    }
}
