// Package e2e holds pim6d's end-to-end tests: real pim6d processes in
// network-namespace labs, with real Linux hosts (the kernel's MLD host stack)
// and ssmping/ssmpingd proving that multicast really flows. They need root;
// elsewhere they skip.
package e2e
