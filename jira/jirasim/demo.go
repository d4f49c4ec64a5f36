package jirasim

import "fmt"

// DemoInfo tells `privilege demo` how to connect to a NewDemo simulator.
type DemoInfo struct {
	AuthURL, APIURL                  string
	CloudClientID, CloudClientSecret string
	Acme                             *Site // "acme": OPS (simple), SEC (two-step), HR (no Task), FIN (required field)
	Big                              *Site // "globex": 125 projects, for pagination
	DC                               *DataCenter
	DCBaseURL                        string
	DCClientID, DCClientSecret       string // incoming link for DCRedirectURI
	DCRedirectURI                    string
	CertPEM                          []byte
}

// demoPeople are the Jira users of the demo's sample users: DC username,
// display name, email (the admin, Ada Admin, is every instance's first user).
func demoPeople() [][3]string {
	return [][3]string{{"bob", "Bob Approver", "approver@demo.test"}, {"rita", "Rita Requester", "requester@demo.test"}}
}

// NewDemo returns a simulator seeded for `privilege demo`:
//   - Cloud site "acme": OPS "Operations" (SimpleWorkflow), SEC "Security"
//     (TwoStepWorkflow), HR "People" (no "Task" issue type) and FIN "Finance"
//     (Task requires customfield_10050 "Cost center");
//   - Cloud site "globex" with 125 projects (G001…G125) so pagination shows;
//   - a Data Center instance at context path "/jira" with OPS and SEC and one
//     incoming link whose redirect URL is opts.CloudRedirectURIs[0] (or
//     http://127.0.0.1:8080/jira/callback).
//
// With two sites the Cloud consent page shows a site picker.
func NewDemo(opts Options) (*Sim, DemoInfo) {
	s := New(opts)
	acme := s.AddCloudSite("acme")
	acme.AddProject("OPS", "Operations", SimpleWorkflow())
	acme.AddProject("SEC", "Security", TwoStepWorkflow())
	hr := acme.AddProject("HR", "People", SimpleWorkflow())
	hr.RemoveIssueType("Task")
	hr.AddIssueType("Request", false)
	fin := acme.AddProject("FIN", "Finance", SimpleWorkflow())
	fin.RequireField("Task", "customfield_10050", "Cost center")

	big := s.AddCloudSite("globex")
	for i := 1; i <= 125; i++ {
		wf := SimpleWorkflow()
		if i%2 == 0 {
			wf = TwoStepWorkflow()
		}
		big.AddProject(fmt.Sprintf("G%03d", i), fmt.Sprintf("Globex team %d", i), wf)
	}

	dc := s.AddDataCenter("/jira")
	dc.AddProject("OPS", "Operations", SimpleWorkflow())
	dc.AddProject("SEC", "Security", TwoStepWorkflow())
	redirect := "http://127.0.0.1:8080/jira/callback"
	if len(opts.CloudRedirectURIs) > 0 {
		redirect = opts.CloudRedirectURIs[0]
	}
	id, secret := dc.AddClient(redirect, "READ", "WRITE")
	// The demo's sample people, so each can link their Jira account from
	// their profile with one click ("Accept as …") on the consent page.
	for _, p := range demoPeople() {
		s.AddCloudUser(p[1], p[2])
		dc.AddUser(p[0], p[1], p[2])
	}
	cid, csecret := s.CloudClient()
	return s, DemoInfo{
		AuthURL: s.AuthURL(), APIURL: s.APIURL(),
		CloudClientID: cid, CloudClientSecret: csecret,
		Acme: acme, Big: big,
		DC: dc, DCBaseURL: dc.BaseURL(), DCClientID: id, DCClientSecret: secret, DCRedirectURI: redirect,
		CertPEM: s.CertPEM(),
	}
}
