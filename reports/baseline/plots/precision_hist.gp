set terminal pngcairo size 900,520 font 'sans,10' noenhanced
set output 'reports/db9975e/precision_hist.png'
set title 'ULP error of kconform kernels against the exact profiles'
set xlabel 'ULP error (1/64-ulp bins)'
set ylabel 'fraction of elements'
set logscale y
set xrange [0:*]
set key top right
plot 'reports/db9975e/plots/precision_hist.dat' index 0 with steps lw 2 title 'bf16', 'reports/db9975e/plots/precision_hist.dat' index 1 with steps lw 2 title 'fp16', 'reports/db9975e/plots/precision_hist.dat' index 2 with steps lw 2 title 'fp32'
