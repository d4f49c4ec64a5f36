package jira

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestAddressGuard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr  string
		allow []string
		ok    bool
	}{
		{"169.254.169.254", nil, false},
		{"169.254.169.254", []string{"169.254.0.0/16"}, false}, // metadata never, even if listed
		{"169.254.10.1", []string{"169.254.0.0/16"}, false},
		{"fd00:ec2::254", nil, false},
		{"fd00:ec2::254", []string{"fd00::/8"}, false},
		{"fd20:ce::254", nil, false}, // GCP metadata over IPv6 (fc00::/7 is otherwise allowed)
		{"fd20:ce::254", []string{"fd20:ce::/64"}, false},
		{"fd20:ce::253", nil, true},
		{"fe80::1", []string{"fe80::/10"}, false},
		{"127.0.0.1", nil, false},
		{"127.0.0.1", []string{"127.0.0.0/8"}, true},
		{"::1", nil, false},
		{"::ffff:127.0.0.1", nil, false},
		{"::ffff:169.254.169.254", []string{"::ffff:0:0/96"}, false},
		{"0.0.0.0", nil, false},
		{"::", nil, false},
		{"224.0.0.1", nil, false},
		{"ff02::1", nil, false},
		{"255.255.255.255", nil, false},
		{"100.64.0.1", nil, false},
		{"100.64.0.1", []string{"100.64.0.0/10"}, true},
		{"10.1.2.3", nil, true}, // private ranges: self-hosted Jira lives there
		{"172.16.5.4", nil, true},
		{"192.168.1.10", nil, true},
		{"fd12:3456::1", nil, true},
		{"104.192.136.1", nil, true}, // public
		{"2600:1f18::1", nil, true},
	}
	for _, tc := range tests {
		var allow []netip.Prefix
		for _, p := range tc.allow {
			allow = append(allow, netip.MustParsePrefix(p))
		}
		err := newAddressGuard(allow).check(netip.MustParseAddr(tc.addr))
		if (err == nil) != tc.ok {
			t.Errorf("%s allow=%v: err=%v, want ok=%v", tc.addr, tc.allow, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("%s: error %v is not ErrForbiddenAddress", tc.addr, err)
		}
	}
}

func getStatus(t *testing.T, hc *http.Client, url string) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestHTTPClientRefusesForbiddenAddresses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	guarded := NewHTTPClient(OutboundConfig{})
	metadataAllowed := NewHTTPClient(OutboundConfig{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16")}})

	for _, tc := range []struct {
		name string
		hc   *http.Client
		url  string
	}{
		{"loopback", guarded, srv.URL},
		{"localhost name", guarded, "http://localhost:" + port},
		{"ipv6 loopback", guarded, "http://[::1]:" + port},
		{"unspecified", guarded, "http://0.0.0.0:" + port},
		{"metadata", guarded, "http://169.254.169.254/latest/meta-data/"},
		{"metadata though listed", metadataAllowed, "http://169.254.169.254/latest/meta-data/"},
	} {
		if _, err := getStatus(t, tc.hc, tc.url); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("%s: err = %v, want ErrForbiddenAddress", tc.name, err)
		}
	}

	allowed := NewHTTPClient(OutboundConfig{AllowCIDRs: loopbackOnly()})
	if status, err := getStatus(t, allowed, srv.URL); err != nil || status != 200 {
		t.Fatalf("allowed loopback: status %d err %v", status, err)
	}
}

func TestHTTPClientRechecksRedirects(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	hc := NewHTTPClient(OutboundConfig{AllowCIDRs: loopbackOnly()})
	if _, err := getStatus(t, hc, srv.URL); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("redirect to metadata: err = %v", err)
	}
}

func TestHTTPClientCapsRedirectsAndDropsAuthorizationAcrossHosts(t *testing.T) {
	t.Parallel()
	gotAuth := make(chan string, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth <- r.Header.Get("Authorization")
	}))
	t.Cleanup(other.Close)
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away" {
			http.Redirect(w, r, other.URL, http.StatusFound)
			return
		}
		http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
	}))
	t.Cleanup(loop.Close)
	hc := NewHTTPClient(OutboundConfig{AllowCIDRs: loopbackOnly()})

	if _, err := getStatus(t, hc, loop.URL+"/r"); err == nil || !strings.Contains(err.Error(), "5 redirects") {
		t.Fatalf("endless redirects: err = %v", err)
	}

	req, _ := http.NewRequest(http.MethodGet, loop.URL+"/away", nil)
	req.Header.Set("Authorization", "Bearer secret")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if auth := <-gotAuth; auth != "" {
		t.Fatalf("Authorization forwarded to another host: %q", auth)
	}
}

func TestValidateBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		errHas   string
	}{
		{"https://jira.example.com", "https://jira.example.com", ""},
		{"  https://jira.example.com/  ", "https://jira.example.com", ""},
		{"https://JIRA.Example.com:443/jira/", "https://jira.example.com/jira", ""},
		{"https://jira.example.com:8443/jira", "https://jira.example.com:8443/jira", ""},
		{"https://jira.example.com/jira/secure/Dashboard.jspa?selectPageId=1", "https://jira.example.com/jira", ""},
		{"https://jira.example.com/browse/OPS-12", "https://jira.example.com", ""},
		{"https://jira.example.com/secure", "https://jira.example.com", ""},
		{"https://jira.example.com/rest/api/2/serverInfo", "https://jira.example.com", ""},
		{"http://jira.example.com", "", "https://"},
		{"jira.example.com", "", "https://"},
		{"ftp://jira.example.com", "", "https://"},
		{"https://admin:pw@jira.example.com", "", "user name or password"},
		{"https://jira.example.com/?x=1", "", "query"},
		{"https://jira.example.com/#frag", "", "fragment"},
		{"https://", "", "host"},
		{"", "", "enter the Base URL"},
		{"https://jira example.com", "", "spaces"},
		{"https://jira.example.com:99999", "", "port"},
	}
	for _, tc := range tests {
		got, err := ValidateBaseURL(tc.in)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("%q: err = %v, want it to mention %q", tc.in, err, tc.errHas)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
